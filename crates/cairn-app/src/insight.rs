//! Dashboards, feedback, traces, cited pages and the review queue: the figures of `cairn stats`, a
//! verdict on an answer, the trace behind "Why this answer?", the PDF page a citation opens, and
//! the answers waiting for a person.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use cairn_engine::{ReviewAction, ReviewItem};

use crate::App;
use crate::api::{
    ApiError, DayView, FeedbackRequest, PageBox, PageImage, PageRequest, ReviewDecision,
    ReviewVerdict, ReviewView, ReviewsRequest, StageLatency, StatsRequest, StatsView, TraceRequest,
    TraceView,
};
use crate::chat::citation_view;

fn review_view(r: ReviewItem) -> ReviewView {
    ReviewView {
        id: r.id,
        trace_id: r.trace_id,
        thread_id: r.thread_id,
        collection: r.collection,
        question: r.question,
        reason: r.reason,
        mode: r.mode,
        answer: r.answer,
        citations: r.citations.into_iter().map(citation_view).collect(),
        made_by: r.made_by,
        status: r.status,
        final_text: r.final_text,
        created_at: r.created_at,
        decided_at: r.decided_at,
        cached_as: r.cached_as,
    }
}

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

    /// A page of a cited PDF, drawn, with the cited passage's lines highlighted: what a citation
    /// of a PDF opens.
    pub async fn cited_page(&self, request: PageRequest) -> Result<PageImage, ApiError> {
        let drawn = self
            .library()?
            .cited_page(
                &request.doc_path,
                request.page,
                &request.passage,
                request.width,
            )
            .await?;
        Ok(PageImage {
            data_url: format!("data:image/png;base64,{}", BASE64.encode(&drawn.png)),
            width: drawn.width,
            height: drawn.height,
            highlights: drawn
                .highlights
                .iter()
                .map(|&[left, top, right, bottom]| PageBox {
                    left,
                    top,
                    right,
                    bottom,
                })
                .collect(),
            page_count: drawn.page_count,
        })
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

    /// The answers waiting for review (or all, decided ones too), newest first.
    pub async fn reviews(&self, request: ReviewsRequest) -> Result<Vec<ReviewView>, ApiError> {
        Ok(self
            .library()?
            .reviews(request.all)?
            .into_iter()
            .map(review_view)
            .collect())
    }

    /// Approves, edits or rejects a queued answer; its thread shows the outcome.
    pub async fn decide_review(&self, request: ReviewDecision) -> Result<ReviewView, ApiError> {
        let action = match request.verdict {
            ReviewVerdict::Approve => ReviewAction::Approve,
            ReviewVerdict::Edit => ReviewAction::Edit(request.text.unwrap_or_default()),
            ReviewVerdict::Reject => ReviewAction::Reject,
        };
        let library = self.library()?;
        // Keeping an answer embeds its question: off the async runtime.
        let item =
            tokio::task::spawn_blocking(move || library.review(request.id, &action, request.keep))
                .await
                .map_err(|e| ApiError::internal(e.to_string()))??;
        Ok(review_view(item))
    }
}
