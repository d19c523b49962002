//! `kiln import`: a local folder into a project of a running Kiln, `.gitignore`
//! honoured, and a second run sending only what changed.

use crate::support;

use support::{alice_with_project, http, kiln, run, serve, stdout};

#[test]
fn import_honours_gitignore_and_resyncs_only_what_changed() {
    let data = tempfile::tempdir().unwrap();
    let (_server, addr, _log) = serve(&mut kiln(data.path()));
    let (token, project) = alice_with_project(&addr, "imported");

    let tree = tempfile::tempdir().unwrap();
    let root = tree.path();
    let write = |path: &str, content: &str| {
        let file = root.join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(file, content).unwrap();
    };
    write(".gitignore", "target/\n*.log\n");
    write("src/main.rs", "fn main() {\n    println!(\"hi\");\n}\n");
    write("README.md", "# Imported\n");
    write("target/debug/app.d", "build output");
    write("debug.log", "noise");
    write(".git/config", "[core]");

    let import = || {
        let mut command = kiln(data.path());
        command.env("KILN_TOKEN", &token).args([
            "import",
            root.to_str().unwrap(),
            "--project",
            &project,
            "--url",
            &format!("http://{addr}"),
        ]);
        stdout(&run(&mut command))
    };
    let first = import();
    assert!(
        first.contains("3 created, 0 updated, 0 unchanged"),
        "{first}"
    );
    let files = http(
        &addr,
        "GET",
        &format!("/api/projects/{project}/files"),
        Some(&token),
        "text/plain",
        b"",
    );
    let paths: Vec<&str> = files
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, [".gitignore", "README.md", "src/main.rs"]);

    let second = import();
    assert!(
        second.contains("0 created, 0 updated, 3 unchanged"),
        "{second}"
    );

    write("README.md", "# Imported, then edited\n");
    write("src/lib.rs", "pub fn added() {}\n");
    let third = import();
    assert!(
        third.contains("1 created, 1 updated, 2 unchanged"),
        "{third}"
    );
}
