//! The `llm-policy-plugin` world: how Kiln recovers from failed LLM calls.

use kiln_llm_policy_rules::{Decision, Failure, MAX_DELAY_MS};
use wasmtime::component::HasSelf;

use crate::{
    Origin, PluginEngine, PluginError, PluginLimits, PluginStats,
    sandbox::{PluginState, Sandboxed},
};

use crate::wit::v0_1_0::llm_policy::{
    LlmPolicyPlugin as World, LlmPolicyPluginPre, exports::kiln::plugin::llm_policy,
};

/// A loaded LLM policy plugin, ready to be called from any thread.
pub struct LlmPolicyPlugin {
    sandbox: Sandboxed<LlmPolicyPluginPre<PluginState>>,
}

impl LlmPolicyPlugin {
    /// Compiles and links `wasm`; anything but an llm-policy plugin of a supported API
    /// version is refused here.
    pub fn load(
        engine: &PluginEngine,
        id: &str,
        wasm: &[u8],
        limits: PluginLimits,
    ) -> Result<Self, PluginError> {
        let sandbox = Sandboxed::load(
            engine,
            id,
            wasm,
            limits,
            |linker| World::add_to_linker::<_, HasSelf<_>>(linker, |state| state),
            LlmPolicyPluginPre::new,
        )?;
        Ok(Self { sandbox })
    }

    pub fn id(&self) -> &str {
        &self.sandbox.id
    }

    pub fn origin(&self) -> Origin {
        self.sandbox.origin()
    }

    pub fn stats(&self) -> PluginStats {
        self.sandbox.stats()
    }

    /// The plugin's decision, held to the host's bounds: a retry waits at most
    /// [`MAX_DELAY_MS`], a fallback must be one of the configured models. Blocking.
    pub fn decide(&self, failure: &Failure) -> Result<Decision, PluginError> {
        self.sandbox.call(
            |pre, store| {
                let instance = pre.instantiate(&mut *store)?;
                instance
                    .kiln_plugin_llm_policy()
                    .call_decide(store, &to_wit(failure))
            },
            |decision| self.bounded(failure, decision),
        )
    }

    fn bounded(
        &self,
        failure: &Failure,
        decision: llm_policy::Decision,
    ) -> Result<Decision, PluginError> {
        Ok(match decision {
            llm_policy::Decision::GiveUp => Decision::GiveUp,
            llm_policy::Decision::Retry(after_ms) => Decision::Retry {
                after_ms: after_ms.min(MAX_DELAY_MS),
            },
            llm_policy::Decision::Fallback(model) => {
                if !failure.fallback_models.contains(&model) {
                    return Err(PluginError::InvalidOutput {
                        plugin: self.sandbox.id.clone(),
                        reason: "the fallback model is not among the configured ones".into(),
                    });
                }
                Decision::Fallback { model }
            }
        })
    }
}

fn to_wit(failure: &Failure) -> llm_policy::Failure {
    llm_policy::Failure {
        http_status: failure.http_status,
        error_code: failure.error_code.clone(),
        message: failure.message.chars().take(2000).collect(),
        model: failure.model.clone(),
        attempt: failure.attempt,
        elapsed_ms: failure.elapsed_ms,
        retry_after_ms: failure.retry_after_ms,
        fallback_models: failure.fallback_models.clone(),
    }
}
