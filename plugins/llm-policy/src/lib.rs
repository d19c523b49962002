//! Kiln's bundled LLM fallback policy: the shared default rules
//! (`kiln-llm-policy-rules`) behind the `llm-policy-plugin` world, via the SDK.

use kiln_plugin_sdk::llm_policy::{Decision, Failure, LlmPolicy};

pub struct DefaultPolicy;

impl LlmPolicy for DefaultPolicy {
    fn decide(failure: &Failure) -> Decision {
        kiln_llm_policy_rules::decide(failure)
    }
}

kiln_plugin_sdk::export_llm_policy!(DefaultPolicy);
