//! Installs like a real tool: shell completions, a `doctor` that says what
//! this install has and what fixes what is missing.

mod common;

use std::process::Command as Std;

use common::World;

/// A packager generates the completions and a shell loads them: every
/// command a user can type is offered.
#[test]
fn completions_for_bash_zsh_and_fish_name_every_command_and_bash_loads_them() {
    let world = World::new();
    let out = world.path("completions");
    world.vouch().args(["generate", "completions", "--out"]).arg(&out).assert().success();
    for file in ["vouch.bash", "_vouch", "vouch.fish"] {
        let script = std::fs::read_to_string(out.join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(!script.trim().is_empty(), "{file} is empty");
        for command in
            ["identity", "sign", "verify", "check", "report", "anchor", "watch", "inspect", "trust", "detect", "models"]
        {
            assert!(script.contains(command), "{file} does not offer `{command}`");
        }
        // Flags of subcommands too, not only the top level.
        assert!(script.contains("--bitcoin-rpc"), "{file} does not complete `verify --bitcoin-rpc`");
    }
    let bash = Std::new("bash")
        .arg("-c")
        .arg(format!("source '{}' && complete -p vouch", out.join("vouch.bash").display()))
        .output()
        .unwrap();
    assert!(bash.status.success(), "bash could not load the completions: {}", String::from_utf8_lossy(&bash.stderr));
    let registered = String::from_utf8_lossy(&bash.stdout);
    assert!(registered.contains("-F _vouch") && registered.trim_end().ends_with(" vouch"), "{registered}");
    // And bash actually completes a subcommand from a prefix.
    let complete = Std::new("bash")
        .arg("-c")
        .arg(format!(
            "source '{}'; COMP_WORDS=(vouch ver); COMP_CWORD=1; COMP_LINE='vouch ver'; COMP_POINT=9; _vouch vouch ver vouch; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            out.join("vouch.bash").display()
        ))
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&complete.stdout).trim(),
        "verify",
        "{}",
        String::from_utf8_lossy(&complete.stderr)
    );
}
