//! Model calls: their cost reserved before a request and settled after, their latency, and the
//! sums budgets are checked against.
//!
//! A reservation and the check that allows it happen in one transaction on the store's one
//! connection, so requests made at the same time cannot together spend past a budget: each sees
//! the others' reservations.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::clock::now;
use crate::error::Result;
use crate::store::Store;

/// A limit on tokens and on cost; `None` is no limit.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limit {
    /// Tokens, prompt and reply together.
    pub tokens: Option<u64>,
    /// US dollars.
    pub cost: Option<f64>,
}

/// Tokens and dollars over some period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Spent {
    /// Tokens, prompt and reply together.
    pub tokens: u64,
    /// US dollars.
    pub cost: f64,
}

impl Spent {
    fn fits(self, extra: Spent, limit: Limit) -> bool {
        limit.tokens.is_none_or(|t| self.tokens + extra.tokens <= t)
            && limit
                .cost
                .is_none_or(|c| self.cost + extra.cost <= c + 1e-12)
    }
}

/// The limits a reservation must fit in.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Limits {
    /// For the conversation the call belongs to.
    pub conversation: Limit,
    /// For the current UTC day.
    pub day: Limit,
    /// For the current UTC month.
    pub month: Limit,
}

/// A call about to be made: who, and the most it may cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Reservation {
    /// The conversation, if any.
    pub thread_id: Option<i64>,
    /// The provider's name.
    pub provider: String,
    /// The model.
    pub model: String,
    /// The most the call can use: prompt tokens and the reply's limit.
    pub tokens: u64,
    /// What that would cost.
    pub cost: f64,
}

/// Why a reservation was refused: the limit that would be passed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    /// `conversation`, `day` or `month`.
    pub period: &'static str,
}

/// How a call ended, with what it really used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settlement {
    /// `ok`, or the error's code.
    pub outcome: String,
    /// Prompt tokens.
    pub tokens_in: u64,
    /// Generated tokens.
    pub tokens_out: u64,
    /// US dollars.
    pub cost: f64,
    /// Milliseconds to the first token.
    pub first_token_ms: Option<f64>,
    /// Milliseconds in all.
    pub total_ms: Option<f64>,
}

/// One model's recent speed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    /// Median milliseconds of the whole answer, over the recent successful calls.
    pub median_total_ms: f64,
    /// Calls it is measured over.
    pub calls: usize,
}

/// Spend by provider and model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelSpend {
    /// Provider.
    pub provider: String,
    /// Model.
    pub model: String,
    /// Calls made.
    pub calls: u64,
    /// Tokens and cost.
    pub spent: Spent,
}

/// `YYYY-MM-DD` and `YYYY-MM` of a Unix time, in UTC.
pub fn day_and_month(unix: i64) -> (String, String) {
    let days = unix.div_euclid(86_400);
    // Civil date from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (format!("{y:04}-{m:02}-{d:02}"), format!("{y:04}-{m:02}"))
}

impl Store {
    fn spent_where(
        conn: &rusqlite::Connection,
        clause: &str,
        value: &dyn rusqlite::ToSql,
    ) -> Result<Spent> {
        let sql = format!(
            "SELECT COALESCE(SUM(tokens_in + tokens_out), 0), COALESCE(SUM(cost), 0) FROM model_calls WHERE {clause}"
        );
        Ok(conn.query_row(&sql, [value], |r| {
            Ok(Spent {
                tokens: r.get::<_, i64>(0)? as u64,
                cost: r.get(1)?,
            })
        })?)
    }

    /// Reserves a call's largest possible cost if it fits every limit, counting what is spent and
    /// what other calls in flight have reserved. Returns the reservation's id, to settle.
    pub fn reserve(
        &self,
        call: &Reservation,
        limits: &Limits,
    ) -> Result<std::result::Result<i64, Refused>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let created = now();
        let (day, month) = day_and_month(created);
        let extra = Spent {
            tokens: call.tokens,
            cost: call.cost,
        };
        if let Some(thread) = call.thread_id {
            let spent = Self::spent_where(&tx, "thread_id = ?1", &thread)?;
            if !spent.fits(extra, limits.conversation) {
                return Ok(Err(Refused {
                    period: "conversation",
                }));
            }
        }
        if !Self::spent_where(&tx, "day = ?1", &day)?.fits(extra, limits.day) {
            return Ok(Err(Refused { period: "day" }));
        }
        if !Self::spent_where(&tx, "month = ?1", &month)?.fits(extra, limits.month) {
            return Ok(Err(Refused { period: "month" }));
        }
        tx.execute(
            "INSERT INTO model_calls (thread_id, provider, model, state, tokens_in, tokens_out, cost, day, month, created_at) \
             VALUES (?1, ?2, ?3, 'reserved', ?4, 0, ?5, ?6, ?7, ?8)",
            params![call.thread_id, call.provider, call.model, call.tokens as i64, call.cost, day, month, created],
        )?;
        let id = tx.last_insert_rowid();
        tx.commit()?;
        Ok(Ok(id))
    }

    /// The first period (conversation, day, month) whose spending, settled and reserved, is past
    /// its limit: checked again when a call is settled, since a provider may report more than was
    /// reserved.
    pub fn over_limit(&self, thread_id: Option<i64>, limits: &Limits) -> Result<Option<Refused>> {
        let conn = self.conn();
        let (day, month) = day_and_month(now());
        let within = |spent: Spent, limit: Limit| spent.fits(Spent::default(), limit);
        if let Some(thread) = thread_id
            && !within(
                Self::spent_where(&conn, "thread_id = ?1", &thread)?,
                limits.conversation,
            )
        {
            return Ok(Some(Refused {
                period: "conversation",
            }));
        }
        if !within(Self::spent_where(&conn, "day = ?1", &day)?, limits.day) {
            return Ok(Some(Refused { period: "day" }));
        }
        if !within(
            Self::spent_where(&conn, "month = ?1", &month)?,
            limits.month,
        ) {
            return Ok(Some(Refused { period: "month" }));
        }
        Ok(None)
    }

    /// Replaces a reservation with what the call really used.
    pub fn settle(&self, reservation: i64, settlement: &Settlement) -> Result<()> {
        self.conn().execute(
            "UPDATE model_calls SET state = 'settled', outcome = ?2, tokens_in = ?3, tokens_out = ?4, cost = ?5, \
             first_token_ms = ?6, total_ms = ?7 WHERE id = ?1",
            params![
                reservation,
                settlement.outcome,
                settlement.tokens_in as i64,
                settlement.tokens_out as i64,
                settlement.cost,
                settlement.first_token_ms,
                settlement.total_ms
            ],
        )?;
        Ok(())
    }

    /// Records a call that costs nothing (the on-device model), for its latency.
    pub fn record_call(
        &self,
        thread_id: Option<i64>,
        provider: &str,
        model: &str,
        settlement: &Settlement,
    ) -> Result<()> {
        let created = now();
        let (day, month) = day_and_month(created);
        self.conn().execute(
            "INSERT INTO model_calls (thread_id, provider, model, state, outcome, tokens_in, tokens_out, cost, \
             first_token_ms, total_ms, day, month, created_at) VALUES (?1, ?2, ?3, 'settled', ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            params![
                thread_id,
                provider,
                model,
                settlement.outcome,
                settlement.tokens_in as i64,
                settlement.tokens_out as i64,
                settlement.cost,
                settlement.first_token_ms,
                settlement.total_ms,
                day,
                month,
                created
            ],
        )?;
        Ok(())
    }

    /// Reservations a crash left open become settled at their reserved cost (the worst case):
    /// what may have been spent is never forgotten.
    pub fn settle_stale_reservations(&self) -> Result<usize> {
        Ok(self.conn().execute(
            "UPDATE model_calls SET state = 'settled', outcome = 'interrupted' WHERE state = 'reserved'",
            [],
        )?)
    }

    /// What was spent (settled and reserved) today, this month, and in a conversation.
    pub fn spent(&self, thread_id: Option<i64>) -> Result<(Spent, Spent, Spent)> {
        let conn = self.conn();
        let (day, month) = day_and_month(now());
        let today = Self::spent_where(&conn, "day = ?1", &day)?;
        let this_month = Self::spent_where(&conn, "month = ?1", &month)?;
        let conversation = match thread_id {
            Some(t) => Self::spent_where(&conn, "thread_id = ?1", &t)?,
            None => Spent::default(),
        };
        Ok((today, this_month, conversation))
    }

    /// Spend by provider and model this month, most expensive first.
    pub fn spend_by_model(&self) -> Result<Vec<ModelSpend>> {
        let conn = self.conn();
        let (_, month) = day_and_month(now());
        let mut stmt = conn.prepare(
            "SELECT provider, model, COUNT(*), COALESCE(SUM(tokens_in + tokens_out), 0), COALESCE(SUM(cost), 0) \
             FROM model_calls WHERE month = ?1 GROUP BY provider, model ORDER BY SUM(cost) DESC, provider, model",
        )?;
        let rows = stmt.query_map([month], |r| {
            Ok(ModelSpend {
                provider: r.get(0)?,
                model: r.get(1)?,
                calls: r.get::<_, i64>(2)? as u64,
                spent: Spent {
                    tokens: r.get::<_, i64>(3)? as u64,
                    cost: r.get(4)?,
                },
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A model's median answer time over its last `recent` successful calls, if it has any.
    pub fn latency(&self, provider: &str, model: &str, recent: usize) -> Result<Option<Latency>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(
            "SELECT total_ms FROM model_calls WHERE provider = ?1 AND model = ?2 AND outcome = 'ok' \
             AND total_ms IS NOT NULL ORDER BY id DESC LIMIT ?3",
        )?;
        let mut times: Vec<f64> = stmt
            .query_map(params![provider, model, recent as i64], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if times.is_empty() {
            return Ok(None);
        }
        times.sort_by(f64::total_cmp);
        let n = times.len();
        let median = if n % 2 == 1 {
            times[n / 2]
        } else {
            (times[n / 2 - 1] + times[n / 2]) / 2.0
        };
        Ok(Some(Latency {
            median_total_ms: median,
            calls: n,
        }))
    }

    /// Whether a reservation is still open (for tests and checks).
    pub fn reservation_open(&self, id: i64) -> Result<bool> {
        Ok(self
            .conn()
            .query_row("SELECT state FROM model_calls WHERE id = ?1", [id], |r| {
                r.get::<_, String>(0)
            })
            .optional()?
            .is_some_and(|s| s == "reserved"))
    }
}
