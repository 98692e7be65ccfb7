//! The API request decoder on arbitrary bytes: `X-Amz-Target` parsing and each operation's input shape.
#![no_main]

use cutover_api_types::codedeploy::Operation;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, body)) = data.split_first() else { return };
    // The first byte picks the operation; the target header is also fuzzed as text.
    let operation = Operation::ALL[usize::from(selector) % Operation::ALL.len()];
    let _ = operation.decode_input(body);
    if let Ok(target) = std::str::from_utf8(body)
        && let Some(parsed) = Operation::from_target(target)
    {
        assert_eq!(target.rsplit_once('.').map(|(_, name)| name), Some(parsed.name()));
    }
});
