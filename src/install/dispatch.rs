//! The machine-wide install's dispatchers: a small shell script at every hook name git runs,
//! handing on to the hook git would have run without mainstay, with the same arguments and
//! stdin (its exit status is the hook's). That hook is found as git tells a hook where the
//! repository is: `GIT_DIR` when git exports it (a linked worktree, `--git-dir`), else `.git`
//! in the working directory git starts hooks in, and the common dir, which holds the hooks of
//! every worktree. A hook that is not executable stays off, as git leaves it.

use std::path::Path;

/// Every hook name git runs (githooks(5)) but `pre-push`, which is ours.
pub const HOOKS: [&str; 26] = [
    "applypatch-msg",
    "pre-applypatch",
    "post-applypatch",
    "pre-commit",
    "pre-merge-commit",
    "prepare-commit-msg",
    "commit-msg",
    "post-commit",
    "pre-rebase",
    "post-checkout",
    "post-merge",
    "post-rewrite",
    "reference-transaction",
    "post-index-change",
    "pre-auto-gc",
    "sendemail-validate",
    "pre-receive",
    "update",
    "proc-receive",
    "post-receive",
    "post-update",
    "push-to-checkout",
    "p4-changelist",
    "p4-prepare-changelist",
    "p4-post-changelist",
    "p4-pre-submit",
];

/// The line that marks a dispatcher as ours.
pub const MARKER: &str = "# installed by mainstay (install-hooks --global)";

/// What the dispatchers hand on to.
#[derive(Debug, Clone, Copy)]
pub enum Handoff<'a> {
    /// The repository's own hooks: no global `core.hooksPath` was set before.
    Repository,
    /// The global hooks directory git ran before mainstay's.
    Earlier(&'a Path),
    /// An `[includeIf]` set `core.hooksPath` for some repositories: the one git would read
    /// without `ours` is asked of git in each (one `git config` per hook run, only then).
    AskGit { ours: &'a Path },
}

/// The dispatcher script for `hook` (`pre-push.local` for the one our `pre-push` runs first).
pub fn script(hook: &str, handoff: Handoff) -> String {
    let name = hook.trim_end_matches(crate::pre_push::LOCAL_SUFFIX);
    // A clone installed on its own keeps its project's hook as `pre-push.local`, and its
    // `pre-push` is ours: run the project's, not ours twice.
    let own = if name == "pre-push" {
        "h=$d/hooks/pre-push; [ -f \"$d/mainstay/install.json\" ] && h=$d/hooks/pre-push.local\n"
            .to_owned()
    } else {
        format!("h=$d/hooks/{name}\n")
    };
    // `.git` a directory of its own (no `commondir`) is the common dir: no process at all.
    let locate = format!(
        "d=${{GIT_DIR:-.git}}\n\
         if [ ! -d \"$d\" ] || [ -f \"$d/commondir\" ]; then d=$(git rev-parse --git-common-dir 2>/dev/null) || exit 0; fi\n\
         {own}"
    );
    let find = match handoff {
        Handoff::Repository => locate,
        Handoff::Earlier(dir) => format!("h={}\n", super::shell_quote(&dir.join(name))),
        Handoff::AskGit { ours } => format!(
            "e=$(git config --type=path --get-all core.hooksPath 2>/dev/null | grep -vxF {} | tail -n 1)\n\
             if [ -n \"$e\" ]; then h=$e/{name}; else\n{locate}fi\n",
            super::shell_quote(ours)
        ),
    };
    let none = match name {
        // With no hook, git updates the checked-out branch's work tree itself when it is clean
        // (receive.denyCurrentBranch=updateInstead); the hook's presence replaces that.
        "push-to-checkout" => {
            "git update-index -q --ignore-submodules --refresh || { echo 'Up-to-date check failed' >&2; exit 1; }\n\
             git diff-files --quiet --ignore-submodules -- || { echo 'Working directory has unstaged changes' >&2; exit 1; }\n\
             git diff-index --quiet --cached --ignore-submodules HEAD -- || { echo 'Working directory has staged changes' >&2; exit 1; }\n\
             exec git read-tree -u -m HEAD \"$1\"\n"
        }
        // Only refs in receive.procReceiveRefs reach it, and git refuses those with no hook.
        "proc-receive" => "echo 'mainstay: this repository has no proc-receive hook' >&2\nexit 1\n",
        _ => "exit 0\n",
    };
    format!(
        "#!/bin/sh\n{MARKER}: hands on to the repository's own `{name}`\n{find}[ -x \"$h\" ] && exec \"$h\" \"$@\"\n{none}"
    )
}
