//! Model spend: UTC civil dates, reservations counted against the day's, month's and
//! conversation's limits until settled, and latency.

use cairn_store::{Limit, Limits, Refused, Reservation, Settlement, Store, day_and_month};

fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
    (dir, store)
}

fn call(thread: Option<i64>, cost: f64) -> Reservation {
    Reservation {
        thread_id: thread,
        provider: "openai".into(),
        model: "gpt".into(),
        tokens: 1000,
        cost,
    }
}

#[test]
fn civil_dates() {
    assert_eq!(day_and_month(0), ("1970-01-01".into(), "1970-01".into()));
    assert_eq!(
        day_and_month(951_782_400),
        ("2000-02-29".into(), "2000-02".into())
    );
    assert_eq!(
        day_and_month(1_798_761_599),
        ("2026-12-31".into(), "2026-12".into())
    );
}

#[test]
fn reservations_count_until_settled_and_limits_hold() {
    let (_d, store) = store();
    let limits = Limits {
        day: Limit {
            tokens: None,
            cost: Some(1.0),
        },
        ..Limits::default()
    };
    let a = store.reserve(&call(None, 0.6), &limits).unwrap().unwrap();
    // A second call that would pass the day's limit with the first's reservation is refused.
    assert_eq!(
        store.reserve(&call(None, 0.6), &limits).unwrap(),
        Err(Refused { period: "day" })
    );
    assert!(store.reservation_open(a).unwrap());
    store
        .settle(
            a,
            &Settlement {
                outcome: "ok".into(),
                tokens_in: 100,
                tokens_out: 20,
                cost: 0.1,
                first_token_ms: Some(200.0),
                total_ms: Some(900.0),
            },
        )
        .unwrap();
    assert!(!store.reservation_open(a).unwrap());
    // The real cost was lower: the second call fits now.
    assert!(store.reserve(&call(None, 0.6), &limits).unwrap().is_ok());
    let (today, month, _) = store.spent(None).unwrap();
    assert!((today.cost - 0.7).abs() < 1e-9, "{today:?}");
    assert_eq!(month.tokens, 120 + 1000);
    assert_eq!(
        store
            .latency("openai", "gpt", 20)
            .unwrap()
            .unwrap()
            .median_total_ms,
        900.0
    );
    assert!(store.latency("openai", "other", 20).unwrap().is_none());
    assert_eq!(store.settle_stale_reservations().unwrap(), 1);
}

#[test]
fn a_conversation_has_its_own_limit() {
    let (_d, store) = store();
    let limits = Limits {
        conversation: Limit {
            tokens: Some(1500),
            cost: None,
        },
        ..Limits::default()
    };
    assert!(store.reserve(&call(Some(1), 0.0), &limits).unwrap().is_ok());
    assert_eq!(
        store.reserve(&call(Some(1), 0.0), &limits).unwrap(),
        Err(Refused {
            period: "conversation"
        })
    );
    assert!(store.reserve(&call(Some(2), 0.0), &limits).unwrap().is_ok());
    let by_model = store.spend_by_model().unwrap();
    assert_eq!(by_model.len(), 1);
    assert_eq!(by_model[0].calls, 2);
}
