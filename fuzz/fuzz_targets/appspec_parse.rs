//! The AppSpec parser on arbitrary text: it must return a model or diagnostics, never panic or run away.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    match cutover_domain::appspec::parse(text) {
        Ok(spec) => {
            // What the agent does next with a valid AppSpec: look up each event's scripts.
            for event in cutover_domain::lifecycle::LifecycleEvent::ALL {
                let _ = spec.scripts(event);
            }
        }
        Err(diagnostics) => assert!(!diagnostics.is_empty(), "a refused AppSpec must say why"),
    }
});
