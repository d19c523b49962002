//! The bundled LLM fallback policy, run in the sandbox against the native rules.

mod support;

use support::wasm;

use kiln_plugin_host::{LlmDecision, LlmFailure, LlmPolicyPlugin, PluginEngine, PluginLimits};

fn failure(status: u16, code: Option<&str>, attempt: u32) -> LlmFailure {
    LlmFailure {
        http_status: status,
        error_code: code.map(str::to_owned),
        message: "provider said no".into(),
        model: "big".into(),
        attempt,
        elapsed_ms: u64::from(attempt) * 700,
        retry_after_ms: (status == 429).then_some(1_500),
        fallback_models: vec!["big".into(), "small".into()],
    }
}

#[test]
fn the_sandboxed_policy_decides_exactly_as_the_built_in_rules() {
    let engine = PluginEngine::new().unwrap();
    let policy = LlmPolicyPlugin::load(
        &engine,
        "kiln.llm-policy",
        &wasm("kiln_llm_policy.wasm"),
        PluginLimits::default(),
    )
    .unwrap();
    let cases = [
        failure(404, Some("model_not_found"), 1),
        failure(429, Some("rate_limit_exceeded"), 1),
        failure(429, None, 4),
        failure(503, None, 1),
        failure(503, None, 3),
        failure(0, None, 2),
        failure(500, None, 9),
        failure(400, Some("invalid_request"), 1),
        failure(401, None, 1),
    ];
    for case in &cases {
        let sandboxed = policy.decide(case).unwrap();
        assert_eq!(sandboxed, kiln_llm_policy_rules::decide(case), "{case:?}");
    }
    assert_eq!(
        policy.decide(&cases[0]).unwrap(),
        LlmDecision::Fallback {
            model: "small".into()
        }
    );
    assert_eq!(
        policy.decide(&cases[1]).unwrap(),
        LlmDecision::Retry { after_ms: 1_500 }
    );
    let stats = policy.stats();
    assert_eq!((stats.calls, stats.failures.len()), (11, 0));
}

#[test]
fn a_component_of_another_world_is_refused_at_load() {
    let engine = PluginEngine::new().unwrap();
    let error = LlmPolicyPlugin::load(
        &engine,
        "not-a-policy",
        &wasm("kiln_snippet_extractor.wasm"),
        PluginLimits::default(),
    )
    .err()
    .expect("a snippet extractor is not a policy");
    assert_eq!(error.code(), "incompatible_api", "{error}");
}
