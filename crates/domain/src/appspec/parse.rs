pub fn parse(_text: &str) -> Result<super::AppSpec, Vec<super::Diagnostic>> { unimplemented!() }
