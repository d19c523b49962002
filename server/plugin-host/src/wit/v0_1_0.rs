//! `kiln:plugin@0.1.0`: the snippet-extractor, language-parser and llm-policy worlds.

/// `world snippet-extractor`; its `kiln:plugin/host` interface serves every world.
pub mod snippets {
    wasmtime::component::bindgen!({
        world: "snippet-extractor",
        path: "../../wit",
    });
}

/// `world language-parser-plugin`.
pub mod parser {
    wasmtime::component::bindgen!({
        world: "language-parser-plugin",
        path: "../../wit",
        with: { "kiln:plugin/host": super::snippets::kiln::plugin::host },
    });
}

/// `world llm-policy-plugin`.
pub mod llm_policy {
    wasmtime::component::bindgen!({
        world: "llm-policy-plugin",
        path: "../../wit",
        with: { "kiln:plugin/host": super::snippets::kiln::plugin::host },
    });
}
