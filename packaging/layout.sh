# The installed layout, said once; sourced by install/install.sh and packaging/pack.sh.
#
#   <bin>/                           mainstay, install-hooks: the only names put on PATH
#   <bin>/../libexec/mainstay/       pre-push, post-push, merge-driver, pre-receive: what git runs
#
# install-hooks finds the hook executables next to itself, else in <its dir>/../libexec/mainstay/.

# shellcheck shell=bash
ON_PATH=(mainstay install-hooks)
HOOKS=(pre-push post-push merge-driver pre-receive)

# libexec_of BIN: where the hooks go for the executables in BIN (whose parent must exist).
libexec_of() { echo "$(cd "$1/.." && pwd)/libexec/mainstay"; }

# lay_out BUILT BIN: copies the executables in BUILT into BIN and its libexec. Each one is a new
# file renamed into place: a running hook keeps the executable it started with.
lay_out() {
    local built="$1" bin="$2" exe dest
    mkdir -p "$bin"
    mkdir -p "$(libexec_of "$bin")"
    for exe in "${ON_PATH[@]}" "${HOOKS[@]}"; do
        dest="$(libexec_of "$bin")"
        case " ${ON_PATH[*]} " in *" $exe "*) dest="$bin" ;; esac
        install -m 0755 "$built/$exe" "$dest/.$exe.new"
        mv -f "$dest/.$exe.new" "$dest/$exe"
    done
}

#   <bin>/../share/man/man1/         mainstay.1, mainstay-<command>.1
#   <bin>/../share/{bash-completion/completions/mainstay, zsh/site-functions/_mainstay,
#                   fish/vendor_completions.d/mainstay.fish}
#
# lay_docs MAINSTAY SHARE: the man pages and completions that MAINSTAY (an executable that runs
# here) generates from its own definitions, into SHARE.
lay_docs() {
    local mainstay="$1" share="$2"
    "$mainstay" man "$share/man/man1"
    mkdir -p "$share/bash-completion/completions" "$share/zsh/site-functions" \
        "$share/fish/vendor_completions.d"
    "$mainstay" completions bash > "$share/bash-completion/completions/mainstay"
    "$mainstay" completions zsh > "$share/zsh/site-functions/_mainstay"
    "$mainstay" completions fish > "$share/fish/vendor_completions.d/mainstay.fish"
}
