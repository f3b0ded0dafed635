//! Property tests: redaction is reversible for any text, and streaming restores the same text however
//! the reply is cut into pieces.

use cairn_guard::Redactor;
use proptest::prelude::*;

/// Text mixing arbitrary Unicode with PII-shaped pieces and placeholder look-alikes, so the
/// properties are exercised where they can fail.
fn text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<String>(),
        Just("ana.lima@example.org".to_string()),
        Just("4111 1111 1111 1111".to_string()),
        Just("GB82 WEST 1234 5698 7654 32".to_string()),
        Just("+44 20 7946 0958".to_string()),
        Just("219-09-9999".to_string()),
        Just("192.168.0.1".to_string()),
        // A key-shaped string assembled at run time (no key-like literal in the source).
        Just(["sk", "proj", "abcdefghijklmnopqrstuvwx"].join("-")),
        Just("<EMAIL_1>".to_string()),
        Just("<PHONE_".to_string()),
        Just("<LITERAL_2>".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("_1>".to_string()),
        "[0-9 <>A-Z_@.+-]{0,12}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn restore_undoes_redact(x in text()) {
        let mut r = Redactor::default();
        let red = r.redact(&x).unwrap();
        prop_assert_eq!(r.restore(&red.text), x);
    }

    #[test]
    fn restore_undoes_redact_across_messages(a in text(), b in text()) {
        let mut r = Redactor::default();
        let ra = r.redact(&a).unwrap();
        let rb = r.redact(&b).unwrap();
        prop_assert_eq!(r.restore(&ra.text), a);
        prop_assert_eq!(r.restore(&rb.text), b);
    }

    #[test]
    fn streamed_restore_equals_whole_restore(x in text(), cuts in prop::collection::vec(0usize..64, 0..10)) {
        let mut r = Redactor::default();
        let red = r.redact(&x).unwrap().text;
        let mut bounds: Vec<usize> = cuts.into_iter().map(|c| c.min(red.len())).filter(|c| red.is_char_boundary(*c)).collect();
        bounds.push(red.len());
        bounds.sort_unstable();
        let mut s = r.stream();
        let mut out = String::new();
        let mut at = 0;
        for b in bounds {
            out.push_str(&s.push(&red[at..b]));
            at = b;
        }
        out.push_str(&s.finish());
        prop_assert_eq!(out, x);
    }

    #[test]
    fn nothing_detected_leaks_into_the_redacted_text(x in text()) {
        let mut r = Redactor::default();
        let red = r.redact(&x).unwrap();
        for e in &red.entities {
            let value = &x[e.start..e.end];
            prop_assert!(!red.text.contains(value), "{:?} survived in {:?}", value, red.text);
        }
    }
}

/// Text of plain words and personal data of every kind, some of it only recognisable by its
/// context ("Ask Lindqvist", a surname said alone).
fn part() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-z ,.]{0,16}",
        Just("ana.lima@example.org".to_string()),
        Just("4111 1111 1111 1111".to_string()),
        Just("+44 20 7946 0958".to_string()),
        Just("My name is Greta Lindqvist. ".to_string()),
        Just("Ask Lindqvist about it. ".to_string()),
        Just("Dipl.-Ing. Eva-Maria Stadelmann B.Sc. ".to_string()),
        Just("Stadelmann wrote. ".to_string()),
        Just("Hans-Böckler-Allee 2-1".to_string()),
        Just("Flat 59H, Alexander Court".to_string()),
        Just("Ms Lisa May ".to_string()),
        Just(" 7946 0958 ".to_string()),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Two-pass redaction: a value found in any part of a request (of four characters or more:
    /// shorter ones would be replaced inside ordinary words) appears in none of what leaves.
    #[test]
    fn a_value_found_in_any_part_appears_in_no_part_of_the_request(
        system in part(),
        history in prop::collection::vec(part(), 0..3),
        passages in prop::collection::vec(part(), 0..3),
        question in part(),
    ) {
        let request = cairn_guard::Outbound {
            system: system.clone(),
            history: history.iter().map(|h| ("user".to_string(), h.clone())).collect(),
            passages: passages.clone(),
            question: question.clone(),
        };
        let (egress, _) = cairn_guard::Guard::default().prepare(&request).unwrap();
        let sent: String = egress.messages().iter().map(|m| m.content.as_str()).collect::<Vec<_>>().join("\n");
        let scanner = cairn_guard::PiiScanner::default();
        let parts = std::iter::once(&system).chain(&history).chain(&passages).chain(std::iter::once(&question));
        for part in parts {
            for e in scanner.scan(part).unwrap() {
                let value = &part[e.start..e.end];
                if value.len() >= 4 {
                    prop_assert!(!sent.contains(value), "{:?} (found in {:?}) was sent: {:?}", value, part, sent);
                }
            }
        }
    }
}
