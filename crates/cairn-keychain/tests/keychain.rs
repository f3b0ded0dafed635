//! Keys in the real OS keychain (on Linux, the Secret Service: run under `dbus-run-session` with
//! an unlocked `gnome-keyring-daemon`, as scripts/test does).

use cairn_keychain::{ApiKey, Keychain};

/// A keychain service of this test's own, so a developer's real keys are never touched.
fn keychain() -> Keychain {
    Keychain::new(&format!("cairn-test-{}", std::process::id()))
}

#[test]
fn keys_are_stored_read_replaced_and_removed() {
    let keychain = keychain();
    // Account names of this test only: other tests may run at the same time.
    let key = ApiKey::new("sk-test-0123456789abcdef").unwrap();
    assert_eq!(keychain.get("store-test").unwrap(), None);
    keychain.set("store-test", &key).unwrap();
    assert_eq!(keychain.get("store-test").unwrap(), Some(key));
    assert!(keychain.has("store-test").unwrap());
    assert!(!keychain.has("store-test-other").unwrap());
    let replaced = ApiKey::new("sk-test-replacement").unwrap();
    keychain.set("store-test", &replaced).unwrap();
    assert_eq!(keychain.get("store-test").unwrap(), Some(replaced));
    assert!(keychain.remove("store-test").unwrap());
    assert!(
        !keychain.remove("store-test").unwrap(),
        "removing twice says there was none"
    );
    assert_eq!(keychain.get("store-test").unwrap(), None);
}
