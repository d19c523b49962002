//! The `llm-policy-plugin` world in plain Rust: implement [`LlmPolicy`], export it with
//! [`export_llm_policy!`](crate::export_llm_policy).

/// One failed LLM call (see `wit/llm-policy.wit`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Failure {
    pub http_status: u16,
    pub error_code: Option<String>,
    pub message: String,
    pub model: String,
    pub attempt: u32,
    pub elapsed_ms: u64,
    pub retry_after_ms: Option<u64>,
    pub fallback_models: Vec<String>,
}

/// What to do next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    GiveUp,
    Retry { after_ms: u64 },
    Fallback { model: String },
}

pub trait LlmPolicy {
    fn decide(failure: &Failure) -> Decision;
}

/// Exports an [`LlmPolicy`] as the plugin's `llm-policy-plugin` world.
#[macro_export]
macro_rules! export_llm_policy {
    ($policy:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            use $crate::bindings::llm_policy::exports::kiln::plugin::llm_policy as wit;

            struct Export;

            impl wit::Guest for Export {
                fn decide(failure: wit::Failure) -> wit::Decision {
                    let failure = $crate::llm_policy::Failure {
                        http_status: failure.http_status,
                        error_code: failure.error_code,
                        message: failure.message,
                        model: failure.model,
                        attempt: failure.attempt,
                        elapsed_ms: failure.elapsed_ms,
                        retry_after_ms: failure.retry_after_ms,
                        fallback_models: failure.fallback_models,
                    };
                    match <$policy as $crate::llm_policy::LlmPolicy>::decide(&failure) {
                        $crate::llm_policy::Decision::GiveUp => wit::Decision::GiveUp,
                        $crate::llm_policy::Decision::Retry { after_ms } => {
                            wit::Decision::Retry(after_ms)
                        }
                        $crate::llm_policy::Decision::Fallback { model } => {
                            wit::Decision::Fallback(model)
                        }
                    }
                }
            }

            $crate::bindings::llm_policy::export_llm_policy_world!(
                Export with_types_in $crate::bindings::llm_policy
            );
        };
    };
}
