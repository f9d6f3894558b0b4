# The installed layout, said once; sourced by install/install.sh and packaging/pack.sh.
#
#   <root>/bin/                      mainstay, install-hooks: the only names put on PATH
#   <root>/libexec/mainstay/         pre-push, post-push, merge-driver, pre-receive: what git runs
#
# install-hooks finds the hook executables next to itself, else in <its dir>/../libexec/mainstay/.

# shellcheck shell=bash
ON_PATH=(mainstay install-hooks)
HOOKS=(pre-push post-push merge-driver pre-receive)

# lay_out BUILT ROOT: copies the executables in BUILT into the layout under ROOT. Each one is a
# new file renamed into place: a running hook keeps the executable it started with.
lay_out() {
    local built="$1" root="$2" exe dest
    mkdir -p "$root/bin" "$root/libexec/mainstay"
    for exe in "${ON_PATH[@]}" "${HOOKS[@]}"; do
        dest="$root/libexec/mainstay"
        case " ${ON_PATH[*]} " in *" $exe "*) dest="$root/bin" ;; esac
        install -m 0755 "$built/$exe" "$dest/.$exe.new"
        mv -f "$dest/.$exe.new" "$dest/$exe"
    done
}
