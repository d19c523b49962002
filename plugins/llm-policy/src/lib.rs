//! Kiln's bundled LLM fallback policy: the shared default rules
//! (`kiln-llm-policy-rules`) behind the `llm-policy-plugin` world.

wit_bindgen::generate!({
    world: "llm-policy-plugin",
    path: "../../wit",
});

use exports::kiln::plugin::llm_policy::{Decision, Failure, Guest};
use kiln_llm_policy_rules as rules;

struct DefaultPolicy;

impl Guest for DefaultPolicy {
    fn decide(failure: Failure) -> Decision {
        let facts = rules::Failure {
            http_status: failure.http_status,
            error_code: failure.error_code,
            message: failure.message,
            model: failure.model,
            attempt: failure.attempt,
            elapsed_ms: failure.elapsed_ms,
            retry_after_ms: failure.retry_after_ms,
            fallback_models: failure.fallback_models,
        };
        match rules::decide(&facts) {
            rules::Decision::GiveUp => Decision::GiveUp,
            rules::Decision::Retry { after_ms } => Decision::Retry(after_ms),
            rules::Decision::Fallback { model } => Decision::Fallback(model),
        }
    }
}

export!(DefaultPolicy);
