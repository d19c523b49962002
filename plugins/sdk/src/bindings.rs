//! Guest bindings for every world of `kiln:plugin@0.1.0`, generated from `wit/`.
//! Plugins use them through the `export_*!` macros, not directly.

pub mod parser {
    wit_bindgen::generate!({
        world: "language-parser-plugin",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_language_parser_world",
        default_bindings_module: "kiln_plugin_sdk::bindings::parser",
    });
}

pub mod snippets {
    wit_bindgen::generate!({
        world: "snippet-extractor",
        path: "../../wit",
        with: { "kiln:plugin/host@0.1.0": super::parser::kiln::plugin::host },
        pub_export_macro: true,
        export_macro_name: "export_snippet_extractor_world",
        default_bindings_module: "kiln_plugin_sdk::bindings::snippets",
    });
}

pub mod llm_policy {
    wit_bindgen::generate!({
        world: "llm-policy-plugin",
        path: "../../wit",
        with: { "kiln:plugin/host@0.1.0": super::parser::kiln::plugin::host },
        pub_export_macro: true,
        export_macro_name: "export_llm_policy_world",
        default_bindings_module: "kiln_plugin_sdk::bindings::llm_policy",
    });
}

pub(crate) fn log(level: crate::LogLevel, message: &str) {
    use parser::kiln::plugin::host::{LogLevel, log};
    let level = match level {
        crate::LogLevel::Trace => LogLevel::Trace,
        crate::LogLevel::Debug => LogLevel::Debug,
        crate::LogLevel::Info => LogLevel::Info,
        crate::LogLevel::Warn => LogLevel::Warn,
        crate::LogLevel::Error => LogLevel::Error,
    };
    log(level, message);
}
