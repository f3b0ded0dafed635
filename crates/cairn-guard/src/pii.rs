//! PII detection: pattern recognizers with validators (Luhn, mod-97, SSN ranges, address parsing,
//! libphonenumber, Base58Check) and context words that raise a candidate's score, as Presidio does.
//! Everything is local; the only data is compiled in.

use std::collections::{BTreeSet, HashMap};
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;
use std::sync::OnceLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

/// A kind of personal or secret data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    /// An e-mail address.
    Email,
    /// A telephone number, in any country's format.
    Phone,
    /// A payment card number that passes the Luhn check.
    CreditCard,
    /// An IBAN that passes the mod-97 check.
    Iban,
    /// A US social security number outside the never-issued ranges.
    UsSsn,
    /// An IPv4 or IPv6 address.
    IpAddress,
    /// A MAC address.
    MacAddress,
    /// A URL that carries a user name and password.
    UrlCredentials,
    /// An API key, token, password or private key.
    Secret,
    /// A Bitcoin or Ethereum address.
    CryptoWallet,
    /// A date next to words that make it a birth date.
    DateOfBirth,
    /// A person's name.
    Person,
    /// A street address.
    StreetAddress,
}

impl EntityKind {
    /// Every kind.
    pub const ALL: [EntityKind; 13] = [
        EntityKind::Email,
        EntityKind::Phone,
        EntityKind::CreditCard,
        EntityKind::Iban,
        EntityKind::UsSsn,
        EntityKind::IpAddress,
        EntityKind::MacAddress,
        EntityKind::UrlCredentials,
        EntityKind::Secret,
        EntityKind::CryptoWallet,
        EntityKind::DateOfBirth,
        EntityKind::Person,
        EntityKind::StreetAddress,
    ];

    /// The name used in placeholders and JSON (`EMAIL`, `CREDIT_CARD`).
    pub fn label(self) -> &'static str {
        match self {
            EntityKind::Email => "EMAIL",
            EntityKind::Phone => "PHONE",
            EntityKind::CreditCard => "CREDIT_CARD",
            EntityKind::Iban => "IBAN",
            EntityKind::UsSsn => "US_SSN",
            EntityKind::IpAddress => "IP_ADDRESS",
            EntityKind::MacAddress => "MAC_ADDRESS",
            EntityKind::UrlCredentials => "URL_CREDENTIALS",
            EntityKind::Secret => "SECRET",
            EntityKind::CryptoWallet => "CRYPTO_WALLET",
            EntityKind::DateOfBirth => "DATE_OF_BIRTH",
            EntityKind::Person => "PERSON",
            EntityKind::StreetAddress => "STREET_ADDRESS",
        }
    }

    /// Words that, right after a candidate, make it more likely to be this kind ("… 0490 75 40 81
    /// office").
    fn trailing_context(self) -> &'static [&'static str] {
        match self {
            EntityKind::Phone => &[
                "office", "fax", "mobile", "cell", "home", "work", "phone", "tel", "ext",
            ],
            _ => &[],
        }
    }

    /// Words that, shortly before a candidate, make it more likely to be this kind.
    fn context(self) -> &'static [&'static str] {
        match self {
            EntityKind::Phone => &[
                "phone",
                "call",
                "tel",
                "tel.",
                "telephone",
                "mobile",
                "cell",
                "fax",
                "contact",
                "reach",
                "dial",
                "ring",
                "whatsapp",
                "sms",
                "text me",
                "message",
                "messages",
                "registered",
            ],
            EntityKind::CreditCard => &[
                "card",
                "credit",
                "visa",
                "mastercard",
                "amex",
                "payment",
                "debit",
            ],
            EntityKind::Iban => &["iban", "bank", "account", "transfer"],
            EntityKind::UsSsn => &["ssn", "social security", "social", "security number"],
            EntityKind::IpAddress => &["ip", "address", "server", "host"],
            EntityKind::MacAddress => &["mac", "hardware", "ethernet", "wifi"],
            EntityKind::Secret => &[
                "key",
                "secret",
                "token",
                "password",
                "passwd",
                "pwd",
                "api",
                "credential",
                "auth",
                "bearer",
            ],
            EntityKind::CryptoWallet => &[
                "wallet", "bitcoin", "btc", "ethereum", "eth", "crypto", "address",
            ],
            _ => &[],
        }
    }
}

/// A detected entity. Offsets are byte offsets into the scanned text (see [`char_offsets`]).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entity {
    /// What it is.
    pub kind: EntityKind,
    /// Start byte.
    pub start: usize,
    /// End byte (exclusive).
    pub end: usize,
    /// Confidence in 0..=1.
    pub score: f32,
}

/// What the scanner looks for and how sure it must be.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PiiConfig {
    /// Kinds switched off.
    pub disabled: BTreeSet<EntityKind>,
    /// Candidates scoring below this are dropped.
    pub threshold: f32,
    /// Per-kind thresholds, overriding `threshold`.
    pub thresholds: HashMap<EntityKind, f32>,
    /// Added to a candidate's score when a context word for its kind precedes it.
    pub context_boost: f32,
    /// How many characters before a candidate are searched for context words.
    pub context_window: usize,
    /// Longest text scanned at once, in bytes; longer is an error, not a slow scan.
    pub max_bytes: usize,
}

impl Default for PiiConfig {
    fn default() -> Self {
        PiiConfig {
            disabled: BTreeSet::new(),
            threshold: 0.5,
            thresholds: HashMap::new(),
            context_boost: 0.35,
            context_window: 48,
            max_bytes: 16 << 20,
        }
    }
}

/// A scan refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ScanError {
    /// The text is longer than `max_bytes`.
    #[error(
        "the text is {len} bytes; the guard scans at most {max} bytes at once (guard.pii.max_bytes)"
    )]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// A recognizer that finds its own spans: `(start, end, score)` in bytes.
type SpanFinder = fn(&str) -> Vec<(usize, usize, f32)>;

struct Recognizer {
    kind: EntityKind,
    regex: Regex,
    /// Which capture group is the entity (0: the whole match).
    group: usize,
    /// Score of a candidate before context, or `None` to drop it.
    score: fn(&str) -> Option<f32>,
}

fn recognizers() -> &'static [Recognizer] {
    static RECOGNIZERS: OnceLock<Vec<Recognizer>> = OnceLock::new();
    RECOGNIZERS.get_or_init(|| {
        let r = |kind, pattern: &str, group, score| Recognizer {
            kind,
            regex: Regex::new(pattern).expect("recognizer patterns are valid"),
            group,
            score,
        };
        vec![
            r(EntityKind::Email, r"(?i)\b[a-z0-9](?:[a-z0-9._%+\-]{0,62}[a-z0-9_%+\-])?@[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?)*\.[a-z]{2,24}\b", 0, email_score),
            r(EntityKind::UrlCredentials, r"(?i)\b[a-z][a-z0-9+.\-]{1,15}://[^\s/:@]+:[^\s/@]+@[^\s/?#]+", 0, |_| Some(1.0)),
            r(EntityKind::CreditCard, r"\b\d(?:[ \-]?\d){11,18}\b", 0, card_score),
            r(EntityKind::Iban, r"(?i)\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b", 0, iban_score),
            r(EntityKind::UsSsn, r"\b\d{3}([\- .]?)\d{2}[\- .]?\d{4}\b", 0, ssn_score),
            r(EntityKind::IpAddress, r"\b(?:\d{1,3}\.){3}\d{1,3}\b", 0, |s| Ipv4Addr::from_str(s).ok().map(|_| 0.95)),
            r(EntityKind::IpAddress, r"(?i)(?:[0-9a-f]{1,4}|:)?:[0-9a-f:.]{2,44}", 0, ipv6_score),
            r(EntityKind::MacAddress, r"(?i)\b[0-9a-f]{2}([:\-])[0-9a-f]{2}(?:[:\-][0-9a-f]{2}){4}\b|\b[0-9a-f]{4}\.[0-9a-f]{4}\.[0-9a-f]{4}\b", 0, mac_score),
            r(EntityKind::Secret, r"\b(?:sk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,}|(?:AKIA|ASIA)[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|xox[abposr]-[A-Za-z0-9\-]{10,}|AIza[0-9A-Za-z_\-]{35}|glpat-[A-Za-z0-9_\-]{20,}|(?:sk|rk|pk)_live_[0-9A-Za-z]{20,}|hf_[A-Za-z0-9]{30,})", 0, |_| Some(1.0)),
            r(EntityKind::Secret, r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----[\s\S]*?-----END (?:[A-Z]+ )?PRIVATE KEY-----", 0, |_| Some(1.0)),
            r(EntityKind::Secret, r"(?i)\b(?:password|passwd|pwd|passphrase|secret|api[_\- ]?key|access[_\- ]?token|auth[_\- ]?token)\s*(?:is|[:=])\s*([^\s,;]{4,128})", 1, |_| Some(0.85)),
            r(EntityKind::Secret, r"\b[A-Za-z0-9+/_\-]{24,}={0,2}", 0, entropy_score),
            r(EntityKind::CryptoWallet, r"\b[13][1-9A-HJ-NP-Za-km-z]{25,34}\b", 0, base58check_score),
            r(EntityKind::CryptoWallet, r"\bbc1[ac-hj-np-z02-9]{11,71}\b", 0, |_| Some(0.9)),
            r(EntityKind::CryptoWallet, r"\b0x[a-fA-F0-9]{40}\b", 0, |_| Some(0.85)),
            r(EntityKind::DateOfBirth, r"(?i)\b(?:born(?: on)?|date of birth|d\.?o\.?b\.?|birth ?date|birthday)\s*(?:is|was|:)?\s*((?:\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4})|(?:\d{4}-\d{2}-\d{2})|(?:(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? \d{4})|(?:\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?,? \d{4}))", 1, |_| Some(0.9)),
            r(EntityKind::Phone, r"(?:\+|\b00)?\(?\d[\d \t().\-]{5,20}\d(?:[ \t]*(?:x|ext\.?|extension)[ \t]*\d{1,6})?\b", 0, phone_score),
        ]
    })
}

/// Finds PII in text.
#[derive(Debug, Clone, Default)]
pub struct PiiScanner {
    config: PiiConfig,
}

impl PiiScanner {
    /// A scanner with `config`.
    pub fn new(config: PiiConfig) -> Self {
        PiiScanner { config }
    }

    /// Its configuration.
    pub fn config(&self) -> &PiiConfig {
        &self.config
    }

    /// Every entity in `text` at or above its threshold, in order, without overlaps (where two
    /// overlap, the higher score wins, then the longer).
    pub fn scan(&self, text: &str) -> Result<Vec<Entity>, ScanError> {
        if text.len() > self.config.max_bytes {
            return Err(ScanError::TooLong {
                len: text.len(),
                max: self.config.max_bytes,
            });
        }
        let lower = text.to_lowercase();
        // `to_lowercase` may change byte lengths (rare scripts); context is then read from the text.
        let context_text = if lower.len() == text.len() {
            lower.as_str()
        } else {
            text
        };
        let mut found = Vec::new();
        for rec in recognizers() {
            if self.config.disabled.contains(&rec.kind) {
                continue;
            }
            for caps in rec.regex.captures_iter(text) {
                let Some(m) = caps.get(rec.group) else {
                    continue;
                };
                let candidate = m.as_str();
                // "+44…" is a phone number's country code, never the start of a card number.
                if rec.kind == EntityKind::CreditCard && text[..m.start()].ends_with('+') {
                    continue;
                }
                let Some(mut score) = (rec.score)(candidate) else {
                    continue;
                };
                let mut end = m.end();
                if rec.kind == EntityKind::Iban {
                    // The pattern may run into the next word; the validated IBAN is a prefix.
                    end = m.start() + iban_span(candidate).unwrap_or(candidate.len());
                }
                if has_context(
                    context_text,
                    m.start(),
                    self.config.context_window,
                    rec.kind.context(),
                ) || has_trailing_context(context_text, end, rec.kind.trailing_context())
                {
                    score = (score + self.config.context_boost).min(1.0);
                }
                let threshold = self
                    .config
                    .thresholds
                    .get(&rec.kind)
                    .copied()
                    .unwrap_or(self.config.threshold);
                if score >= threshold {
                    found.push(Entity {
                        kind: rec.kind,
                        start: m.start(),
                        end,
                        score,
                    });
                }
            }
        }
        let extra: [(EntityKind, SpanFinder); 2] = [
            (EntityKind::Person, crate::names::persons),
            (EntityKind::StreetAddress, crate::names::addresses),
        ];
        for (kind, find) in extra {
            if self.config.disabled.contains(&kind) {
                continue;
            }
            let threshold = self
                .config
                .thresholds
                .get(&kind)
                .copied()
                .unwrap_or(self.config.threshold);
            for (start, end, mut score) in find(text) {
                if has_context(
                    context_text,
                    start,
                    self.config.context_window,
                    kind.context(),
                ) {
                    score = (score + self.config.context_boost).min(1.0);
                }
                if score >= threshold {
                    found.push(Entity {
                        kind,
                        start,
                        end,
                        score,
                    });
                }
            }
        }
        Ok(resolve_overlaps(found))
    }
}

/// Keeps the best of overlapping entities: higher score, then longer, then earlier.
/// A name inside a street address ("656 Joan Lakes") is the street's name: the address is kept.
fn resolve_overlaps(mut found: Vec<Entity>) -> Vec<Entity> {
    let addresses: Vec<(usize, usize)> = found
        .iter()
        .filter(|e| e.kind == EntityKind::StreetAddress)
        .map(|e| (e.start, e.end))
        .collect();
    found.retain(|e| {
        e.kind != EntityKind::Person
            || !addresses
                .iter()
                .any(|&(s, end)| s <= e.start && e.end <= end && end - s > e.end - e.start)
    });
    found.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then((b.end - b.start).cmp(&(a.end - a.start)))
            .then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Entity> = Vec::new();
    for e in found {
        if kept.iter().all(|k| e.end <= k.start || e.start >= k.end) {
            kept.push(e);
        }
    }
    kept.sort_by_key(|e| e.start);
    kept
}

fn has_context(lower: &str, start: usize, window: usize, words: &[&str]) -> bool {
    if words.is_empty() {
        return false;
    }
    let mut from = start.saturating_sub(window);
    while !lower.is_char_boundary(from) {
        from -= 1;
    }
    let before = &lower[from..start];
    words.iter().any(|w| before.contains(w))
}

/// Whether one of `words` starts within a few characters after `end` ("-Office", " fax").
fn has_trailing_context(lower: &str, end: usize, words: &[&str]) -> bool {
    if words.is_empty() {
        return false;
    }
    let mut to = (end + 12).min(lower.len());
    while !lower.is_char_boundary(to) {
        to -= 1;
    }
    let after = lower[end..to]
        .trim_start_matches(|c: char| c.is_whitespace() || c == '-' || c == '(' || c == ',');
    words.iter().any(|w| after.starts_with(w))
}

/// Byte offsets to character offsets, for output.
pub fn char_offsets(text: &str, entities: &[Entity]) -> Vec<(usize, usize)> {
    entities
        .iter()
        .map(|e| {
            (
                text[..e.start].chars().count(),
                text[..e.end].chars().count(),
            )
        })
        .collect()
}

fn email_score(s: &str) -> Option<f32> {
    (!s.contains("..")).then_some(1.0)
}

fn digits(s: &str) -> Vec<u32> {
    s.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// The Luhn checksum.
pub fn luhn(ds: &[u32]) -> bool {
    let sum: u32 = ds
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    !ds.is_empty() && sum.is_multiple_of(10)
}

fn card_score(s: &str) -> Option<f32> {
    let ds = digits(s);
    if !(12..=19).contains(&ds.len()) || !luhn(&ds) || ds.iter().all(|d| *d == ds[0]) {
        return None;
    }
    // Groups must be regular: all digits, or separated in groups of 4 (or Amex's 4-6-5).
    let groups: Vec<usize> = s.split([' ', '-']).map(str::len).collect();
    let regular = groups.len() == 1
        || groups[..groups.len() - 1].iter().all(|g| *g == 4)
        || groups == [4, 6, 5]
        || groups == [4, 6, 4];
    if !regular {
        return None;
    }
    // Known issuer prefixes are near-certain; other Luhn-valid numbers are likely.
    let known = matches!(ds[0], 3..=6) || ds.starts_with(&[2, 2]) || ds.starts_with(&[2, 7]);
    Some(if known { 1.0 } else { 0.6 })
}

/// Country code → IBAN length.
fn iban_length(country: &str) -> Option<usize> {
    const LENGTHS: &[(&str, usize)] = &[
        ("AD", 24),
        ("AE", 23),
        ("AL", 28),
        ("AT", 20),
        ("AZ", 28),
        ("BA", 20),
        ("BE", 16),
        ("BG", 22),
        ("BH", 22),
        ("BR", 29),
        ("BY", 28),
        ("CH", 21),
        ("CR", 22),
        ("CY", 28),
        ("CZ", 24),
        ("DE", 22),
        ("DK", 18),
        ("DO", 28),
        ("EE", 20),
        ("EG", 29),
        ("ES", 24),
        ("FI", 18),
        ("FO", 18),
        ("FR", 27),
        ("GB", 22),
        ("GE", 22),
        ("GI", 23),
        ("GL", 18),
        ("GR", 27),
        ("GT", 28),
        ("HR", 21),
        ("HU", 28),
        ("IE", 22),
        ("IL", 23),
        ("IQ", 23),
        ("IS", 26),
        ("IT", 27),
        ("JO", 30),
        ("KW", 30),
        ("KZ", 20),
        ("LB", 28),
        ("LC", 32),
        ("LI", 21),
        ("LT", 20),
        ("LU", 20),
        ("LV", 21),
        ("MC", 27),
        ("MD", 24),
        ("ME", 22),
        ("MK", 19),
        ("MR", 27),
        ("MT", 31),
        ("MU", 30),
        ("NL", 18),
        ("NO", 15),
        ("PK", 24),
        ("PL", 28),
        ("PS", 29),
        ("PT", 25),
        ("QA", 29),
        ("RO", 24),
        ("RS", 22),
        ("SA", 24),
        ("SC", 31),
        ("SE", 24),
        ("SI", 19),
        ("SK", 24),
        ("SM", 27),
        ("ST", 25),
        ("SV", 28),
        ("TL", 23),
        ("TN", 24),
        ("TR", 26),
        ("UA", 29),
        ("VA", 22),
        ("VG", 24),
        ("XK", 20),
    ];
    LENGTHS.iter().find(|(c, _)| *c == country).map(|(_, n)| *n)
}

/// Byte length of the valid IBAN at the start of `s` (spaces allowed between characters).
fn iban_span(s: &str) -> Option<usize> {
    let want = iban_length(&s.get(..2)?.to_ascii_uppercase())?;
    let mut chars = String::with_capacity(want);
    for (i, c) in s.char_indices() {
        if c == ' ' {
            continue;
        }
        chars.push(c.to_ascii_uppercase());
        if chars.len() == want {
            return mod97(&chars).then_some(i + c.len_utf8());
        }
    }
    None
}

fn mod97(iban: &str) -> bool {
    let rearranged = iban[4..].chars().chain(iban[..4].chars());
    let mut rem = 0u32;
    for c in rearranged {
        let v = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn iban_score(s: &str) -> Option<f32> {
    iban_span(s).map(|_| 1.0)
}

fn ssn_score(s: &str) -> Option<f32> {
    let ds = digits(s);
    let seps: Vec<char> = s.chars().filter(|c| !c.is_ascii_digit()).collect();
    if seps.len() == 1 || seps.iter().any(|c| *c != seps[0]) {
        return None;
    }
    let area = ds[0] * 100 + ds[1] * 10 + ds[2];
    let group = ds[3] * 10 + ds[4];
    let serial = ds[5] * 1000 + ds[6] * 100 + ds[7] * 10 + ds[8];
    if area == 0 || area == 666 || area >= 900 || group == 0 || serial == 0 {
        return None;
    }
    // Advertised and all-same numbers were never issued to anyone.
    if ds.iter().all(|d| *d == ds[0])
        || s.replace(['-', ' ', '.'], "") == "123456789"
        || s.replace(['-', ' ', '.'], "") == "078051120"
    {
        return None;
    }
    Some(if seps.is_empty() { 0.3 } else { 0.6 })
}

fn ipv6_score(s: &str) -> Option<f32> {
    let s = s.trim_end_matches(['.', ':']);
    if s.matches(':').count() < 2 || s.len() < 3 {
        return None;
    }
    let addr = Ipv6Addr::from_str(s).ok()?;
    // "::" alone and "::1" are too short to be anybody's.
    (addr.segments().iter().filter(|x| **x != 0).count() >= 2).then_some(0.95)
}

fn mac_score(s: &str) -> Option<f32> {
    let seps: BTreeSet<char> = s.chars().filter(|c| !c.is_ascii_hexdigit()).collect();
    (seps.len() == 1).then_some(0.9)
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f32 {
    let mut counts: HashMap<char, usize> = HashMap::new();
    for c in s.chars() {
        *counts.entry(c).or_default() += 1;
    }
    let n = s.chars().count() as f32;
    counts
        .values()
        .map(|&k| {
            let p = k as f32 / n;
            -p * p.log2()
        })
        .sum()
}

/// A long random-looking token: letters and digits mixed, high entropy. Scored low: it becomes a
/// secret with a context word (key, token, password) before it.
fn entropy_score(s: &str) -> Option<f32> {
    let has_digit = s.chars().any(|c| c.is_ascii_digit());
    let has_upper = s.chars().any(|c| c.is_ascii_uppercase());
    let has_lower = s.chars().any(|c| c.is_ascii_lowercase());
    (has_digit && (has_upper || has_lower) && entropy(s) >= 3.8).then_some(0.3)
}

fn base58check_score(s: &str) -> Option<f32> {
    const ALPHABET: &str = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut bytes: Vec<u8> = Vec::new();
    for c in s.chars() {
        let mut carry = ALPHABET.find(c)? as u32;
        for b in bytes.iter_mut().rev() {
            carry += u32::from(*b) * 58;
            *b = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = s.chars().take_while(|c| *c == '1').count();
    let mut full = vec![0u8; zeros];
    full.extend(bytes);
    if full.len() != 25 {
        return None;
    }
    use sha2::{Digest, Sha256};
    let check = Sha256::digest(Sha256::digest(&full[..21]));
    (check[..4] == full[21..]).then_some(1.0)
}

/// Regions tried for numbers written without a country code.
const PHONE_REGIONS: [phonenumber::country::Id; 14] = {
    use phonenumber::country::Id::*;
    [US, GB, DE, FR, SE, CH, AU, NL, BE, IT, ES, CA, IN, BR]
};

fn phone_score(s: &str) -> Option<f32> {
    let main = s
        .split(['x', 'X'])
        .next()
        .unwrap_or(s)
        .split("ext")
        .next()
        .unwrap_or(s)
        .trim();
    let ds = digits(main);
    if !(7..=15).contains(&ds.len()) {
        return None;
    }
    // Dates, times, decimals, SSNs and IP-like dotted quads are not phone numbers.
    let groups: Vec<usize> = main
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect();
    let date_like = (main.contains('-') || main.contains('.'))
        && groups.len() >= 3
        && groups[0] == 4
        && groups[1] <= 2
        && groups[2] <= 2
        && main.starts_with(|c: char| c.is_ascii_digit());
    if main.contains('/')
        || groups == [3, 2, 4] && !main.contains('(')
        || date_like
        || main.matches('.').count() == 1 && !main.contains(' ')
        || main.matches('.').count() == 3 && groups.iter().all(|g| *g <= 3)
    {
        return None;
    }
    let international = main.starts_with('+') || main.starts_with("00");
    let (valid, plausible) = if international {
        let rest = main
            .trim_start_matches('+')
            .trim_start_matches("00")
            .replace("(0)", "");
        match phonenumber::parse(None, format!("+{rest}")) {
            // A known country code and a number of plausible length.
            Ok(n) => (phonenumber::is_valid(&n), true),
            Err(_) => (false, false),
        }
    } else if main.starts_with('0') {
        // A national trunk prefix: the number is written for its own country (not the US's).
        let valid = PHONE_REGIONS[1..]
            .iter()
            .any(|r| phonenumber::parse(Some(*r), main).is_ok_and(|n| phonenumber::is_valid(&n)));
        (valid, false)
    } else {
        // Without a country code or trunk prefix, North American numbering is the one that
        // validates reliably; elsewhere too many digit groups (house numbers, postcodes) would pass.
        let valid = phonenumber::parse(Some(phonenumber::country::Id::US), main)
            .is_ok_and(|n| phonenumber::is_valid(&n));
        // The North American shape itself: 3-3-4 with dashes, dots or brackets.
        let nanp_shape = groups == [3, 3, 4]
            && (main.contains('-') || main.contains('.') || main.starts_with('('));
        (valid, nanp_shape)
    };
    let formatted = main
        .chars()
        .any(|c| matches!(c, '-' | ' ' | '(' | '.' | '+'));
    match (valid, formatted) {
        (true, true) => Some(0.75),
        (true, false) => Some(0.5),
        (false, _) if plausible => Some(0.6),
        // Shaped like a phone number but not one any country issues (555 numbers, fictional
        // area codes): it takes a context word ("call", "phone") to count.
        (false, true) => Some(0.4),
        // A bare run of digits: only with a context word ("fax", "call").
        (false, false) if (10..=15).contains(&ds.len()) => Some(0.2),
        (false, false) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(text: &str) -> Vec<(EntityKind, String)> {
        PiiScanner::default()
            .scan(text)
            .unwrap()
            .into_iter()
            .map(|e| (e.kind, text[e.start..e.end].to_string()))
            .collect()
    }

    /// A key-shaped string assembled at run time, so no key-like literal sits in the source for
    /// secret scanners to report.
    fn fake_key(prefix: &str, body: &str) -> String {
        format!("{prefix}{body}")
    }

    #[test]
    fn structured_kinds_are_found_and_validated() {
        let openai = fake_key("sk-proj", "-abcdefghijklmnopqrstuvwx");
        let aws = fake_key("AK", "IAIOSFODNN7EXAMPLE");
        let text = format!(
            "Mail ana.lima@example.org or call +44 20 7946 0958. Card 4111 1111 1111 1111, \
                    IBAN GB82 WEST 1234 5698 7654 32 today. SSN 219-09-9999. Server 192.168.10.4 and \
                    2001:db8:85a3::8a2e:370:7334, MAC 00:1A:2B:3C:4D:5E. https://bob:hunter22@db.example.com/x \
                    key {openai} {aws} wallet 1BoatSLRHtKNngkdXEeobR76b53LETtpyT \
                    born on 12/03/1984."
        );
        let found = kinds(&text);
        let want = [
            (EntityKind::Email, "ana.lima@example.org"),
            (EntityKind::Phone, "+44 20 7946 0958"),
            (EntityKind::CreditCard, "4111 1111 1111 1111"),
            (EntityKind::Iban, "GB82 WEST 1234 5698 7654 32"),
            (EntityKind::UsSsn, "219-09-9999"),
            (EntityKind::IpAddress, "192.168.10.4"),
            (EntityKind::IpAddress, "2001:db8:85a3::8a2e:370:7334"),
            (EntityKind::MacAddress, "00:1A:2B:3C:4D:5E"),
            (
                EntityKind::UrlCredentials,
                "https://bob:hunter22@db.example.com",
            ),
            (EntityKind::Secret, openai.as_str()),
            (EntityKind::Secret, aws.as_str()),
            (
                EntityKind::CryptoWallet,
                "1BoatSLRHtKNngkdXEeobR76b53LETtpyT",
            ),
            (EntityKind::DateOfBirth, "12/03/1984"),
        ];
        for (kind, value) in want {
            assert!(
                found.contains(&(kind, value.to_string())),
                "{kind:?} {value:?} not in {found:#?}"
            );
        }
    }

    #[test]
    fn look_alikes_that_fail_their_checks_are_not_reported() {
        let found = kinds(
            "Order 4111 1111 1111 1112 (bad Luhn), GB00 WEST 1234 5698 7654 32 (bad check digits), \
             SSN 000-12-3456 and 666-12-3456 (never issued), version 1.2.3.400, time 12:30:45, \
             total 3.14159 and the year 2024.",
        );
        assert!(found.is_empty(), "{found:?}");
    }

    #[test]
    fn context_words_raise_a_weak_candidate_over_the_threshold() {
        let token = "Zx81Kq02LmN7pR4sT6vW9yB3cD5";
        assert!(kinds(&format!("the word {token} appears")).is_empty());
        let found = kinds(&format!("my api token: {token}"));
        assert_eq!(found, vec![(EntityKind::Secret, token.to_string())]);
    }

    #[test]
    fn kinds_can_be_switched_off_and_thresholds_raised() {
        let mut config = PiiConfig::default();
        config.disabled.insert(EntityKind::Email);
        config.thresholds.insert(EntityKind::Phone, 0.99);
        let scanner = PiiScanner::new(config);
        assert!(
            scanner
                .scan("write to a@b.co or +44 20 7946 0958")
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            scanner.scan("or call +44 20 7946 0958").unwrap().len(),
            1,
            "context still lifts it"
        );
    }

    #[test]
    fn hostile_and_huge_input_is_scanned_or_refused() {
        // The regex engine is linear-time, so these finish (a backtracking engine would not).
        let scanner = PiiScanner::default();
        for nasty in [
            "1".repeat(200_000),
            "@".repeat(200_000),
            ".".repeat(200_000),
            "a@".repeat(100_000),
            "1-".repeat(100_000),
        ] {
            // None of them holds anything personal, and none is mistaken for it.
            let found = scanner.scan(&nasty).unwrap();
            assert!(found.is_empty(), "{:?}", &found[..found.len().min(3)]);
        }
        let big = "x".repeat(17 << 20);
        assert!(matches!(scanner.scan(&big), Err(ScanError::TooLong { .. })));
    }
}
