//! The egress test: requests built from documents and questions full of seeded PII go through the
//! guard and out over a real loopback socket to a server that records every byte; none of the seeded
//! values may arrive.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use cairn_guard::{Guard, Outbound};

/// Seeded values of every structured kind, plus names after a context word.
fn seeds(i: usize) -> Vec<String> {
    let first = [
        "Mary", "James", "Patricia", "Robert", "Linda", "Michael", "Barbara", "William",
    ][i % 8];
    let last = [
        "Johnson", "Williams", "Brown", "Garcia", "Miller", "Davis", "Wilson", "Moore",
    ][(i / 8) % 8];
    let card_body = format!("4{:014}", 100_000_000_000_000u64 + i as u64 * 7919);
    let check = (0..10)
        .find(|d| luhn_ok(&format!("{card_body}{d}")))
        .unwrap();
    vec![
        format!(
            "{}.{}{}@example.org",
            first.to_lowercase(),
            last.to_lowercase(),
            i
        ),
        format!("{first} {last}"),
        format!("{card_body}{check}"),
        format!("+44 20 7946 {:04}", i % 10_000),
        format!("{:03}-{:02}-{:04}", 100 + i % 500, 10 + i % 80, 1000 + i),
        format!("10.{}.{}.{}", i % 250, (i * 7) % 250, (i * 13) % 250 + 1),
        format!(
            "{}-{:0>32}",
            ["sk", "proj"].join("-"),
            format!("{i}abcdefghijklmnopqrstuvwxyzABCDEFG")
        ),
    ]
}

fn luhn_ok(s: &str) -> bool {
    let sum: u32 = s
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let d = c.to_digit(10).unwrap();
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Addresses and names of every locale of the held-out Faker set, interleaved.
fn held_out() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/faker/heldout.tsv"
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut by_kind: Vec<Vec<String>> = vec![Vec::new(); 6];
    let kinds = [
        ("de_DE", "street_address"),
        ("de_DE", "name"),
        ("en_GB", "street_address"),
        ("en_GB", "name"),
        ("en_US", "street_address"),
        ("en_US", "name"),
    ];
    for line in text.lines() {
        let f: Vec<&str> = line.splitn(3, '\t').collect();
        let k = kinds
            .iter()
            .position(|&(l, k)| l == f[0] && k == f[1])
            .unwrap();
        by_kind[k].push(f[2].to_string());
    }
    (0..150)
        .flat_map(|i| by_kind.iter().map(move |values| values[i].clone()))
        .collect()
}

#[test]
fn no_seeded_pii_reaches_the_wire() {
    let server = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = server.local_addr().unwrap();
    let recorder = std::thread::spawn(move || {
        let mut bytes = Vec::new();
        for stream in server.incoming().take(100) {
            let mut s = stream.unwrap();
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).unwrap();
            bytes.extend(buf);
        }
        bytes
    });
    let people = held_out();
    let mut all_seeds = Vec::new();
    for i in 0..100 {
        let mut s = seeds(i);
        let (email, name, card, phone, ssn, ip, key) = (
            s[0].clone(),
            s[1].clone(),
            s[2].clone(),
            s[3].clone(),
            s[4].clone(),
            s[5].clone(),
            s[6].clone(),
        );
        // German, British and US addresses and names with titles and degrees, as Faker writes
        // them, from the held-out set no detector was tuned on (4 × 100 of its 900 values).
        let [f0, f1, f2, f3] = [0, 1, 2, 3].map(|k| people[(i * 4 + k) % people.len()].clone());
        s.extend([f0.clone(), f1.clone(), f2.clone(), f3.clone()]);
        let request = Outbound {
            system: format!("You are helping Dr. {name}."),
            history: vec![
                (
                    "user".into(),
                    format!("My name is {name} and my SSN is {ssn}."),
                ),
                ("assistant".into(), format!("Thanks, {name}.")),
            ],
            passages: vec![
                format!(
                    "Invoice to {name} <{email}>, card {card}, phone {phone}. Server {ip}, api key: {key}."
                ),
                format!("Dear {name}, please call {phone} or write to {email}."),
                format!("Deliveries: {f0}; or {f1}. Signed by {f3}."),
            ],
            question: format!(
                "Did {name} pay with card {card}? Reply to {email}. {f2} asked {f3} to call."
            ),
        };
        let mut guard = Guard::default();
        let (egress, _) = guard.prepare(&request).unwrap();
        let body = serde_json::to_vec(egress.messages()).unwrap();
        let mut conn = TcpStream::connect(addr).unwrap();
        write!(
            conn,
            "POST /v1/chat/completions HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .unwrap();
        conn.write_all(&body).unwrap();
        drop(conn);
        all_seeds.extend(s);
    }
    let wire = String::from_utf8(recorder.join().unwrap()).unwrap();
    assert!(wire.len() > 10_000, "the server recorded the requests");
    let leaked: Vec<&String> = all_seeds
        .iter()
        .filter(|s| wire.contains(s.as_str()))
        .collect();
    assert!(
        leaked.is_empty(),
        "{} seeded values reached the wire, e.g. {:?}",
        leaked.len(),
        &leaked[..leaked.len().min(5)]
    );
}

#[test]
fn ten_megabytes_of_mixed_and_hostile_text_is_scanned_without_panic() {
    let mut text = String::new();
    let pieces = [
        "Zürich café 東京 ",
        "mail a.b@example.org ",
        "1-2-3-4-5-6-7-8-9-0 ",
        "@@@@....",
        "\u{202e}\u{200b}",
        "9999999999999999999 ",
    ];
    let mut i = 0;
    while text.len() < 10 << 20 {
        text.push_str(pieces[i % pieces.len()]);
        i += 1;
    }
    let found = cairn_guard::PiiScanner::default().scan(&text).unwrap();
    assert!(
        found
            .iter()
            .any(|e| e.kind == cairn_guard::EntityKind::Email)
    );
    assert!(
        found
            .iter()
            .all(|e| text.is_char_boundary(e.start) && text.is_char_boundary(e.end))
    );
}
