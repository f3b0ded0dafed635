//! Dashboards, feedback and traces: the figures of `cairn stats`, a verdict on an answer, and the
//! trace behind "Why this answer?".

use crate::App;
use crate::api::{
    ApiError, DayView, FeedbackRequest, StageLatency, StatsRequest, StatsView, TraceRequest,
    TraceView,
};

impl App {
    /// Operations and quality over the last `days` days.
    pub async fn stats(&self, request: StatsRequest) -> Result<StatsView, ApiError> {
        let days = request.days.clamp(1, 3650);
        let s = self.library()?.stats(days)?;
        Ok(StatsView {
            days: s.days,
            questions: s.questions as u32,
            failed: s.failed as u32,
            error_rate: s.error_rate,
            latency: s
                .latency_ms
                .into_iter()
                .map(|(stage, p)| StageLatency {
                    stage,
                    p50: p.p50,
                    p95: p.p95,
                })
                .collect(),
            guardrail_rate: s.guardrail_rate,
            cache_hit_rate: s.cache_hit_rate,
            local_share: s.local_share,
            cloud_share: s.cloud_share,
            tokens_in: s.tokens_in,
            tokens_out: s.tokens_out,
            cost: s.cost,
            by_day: s
                .by_day
                .into_iter()
                .map(|d| DayView {
                    day: d.day,
                    questions: d.questions as u32,
                    tokens_in: d.tokens_in,
                    tokens_out: d.tokens_out,
                    cost: d.cost,
                    local: d.local as u32,
                    cloud: d.cloud as u32,
                })
                .collect(),
            grounded_rate: s.grounded_rate,
            rated: s.rated as u32,
            thumbs_up_rate: s.thumbs_up_rate,
            follow_up_rate: s.follow_up_rate,
            deterministic_rate: s.deterministic_rate,
        })
    }

    /// Records 👍/👎 (and a correction) on an answer; a later verdict replaces the earlier one.
    pub async fn feedback(&self, request: FeedbackRequest) -> Result<(), ApiError> {
        self.library()?
            .feedback(request.trace_id, request.up, request.correction.as_deref())?;
        Ok(())
    }

    /// The trace of an answer, whole.
    pub async fn trace(&self, request: TraceRequest) -> Result<TraceView, ApiError> {
        let (summary, data) = self.library()?.trace(request.trace_id)?.ok_or_else(|| {
            ApiError::new(
                "no_such_trace",
                format!("there is no trace {}", request.trace_id),
            )
        })?;
        Ok(TraceView {
            id: summary.id,
            created_at: summary.created_at,
            data,
        })
    }
}
