//! Where the machine-wide install lives: its hooks directory and the home and config
//! directories it is read from, found from the environment's values by the caller.

use std::path::PathBuf;

use crate::git::Git;

/// Where `--global` installs.
#[derive(Debug, Clone)]
pub struct Place {
    /// The hooks directory the global `core.hooksPath` names.
    pub hooks: PathBuf,
    /// A directory to run `git config --global` in (the home directory).
    pub home: PathBuf,
    /// `$XDG_CONFIG_HOME`, or `~/.config`.
    pub config_home: PathBuf,
}

impl Place {
    /// `$XDG_CONFIG_HOME/mainstay/hooks`, else `$HOME/.config/mainstay/hooks`: from the values
    /// of those variables, which the caller reads.
    pub fn new(home: Option<PathBuf>, xdg_config_home: Option<PathBuf>) -> Option<Place> {
        let home = home.filter(|h| h.is_absolute())?;
        let config = xdg_config_home
            .filter(|x| x.is_absolute())
            .unwrap_or_else(|| home.join(".config"));
        Some(Place {
            hooks: config.join("mainstay").join("hooks"),
            home,
            config_home: config,
        })
    }

    pub(super) fn manifest_path(&self) -> PathBuf {
        self.hooks.with_file_name("install.json")
    }

    pub(super) fn git(&self) -> Git {
        Git::new(&self.home)
    }
}
