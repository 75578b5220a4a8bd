//! The `warpgrid:shim` interfaces as one type. `pack` checks a component's
//! imports against the enabled [`Shim`]s, `run` links them, `lang::c` pulls
//! in their libc hooks, and `warp.toml` enables them; `wit/shim.wit` is the
//! contract, and a unit test keeps this enum equal to its interfaces.

use std::fmt;

/// One interface of `warpgrid:shim@0.1.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Shim {
    Filesystem,
    Dns,
    Signals,
    DatabaseProxy,
    Threading,
}

impl Shim {
    /// Every shim, in the order `wit/shim.wit` declares them.
    pub const ALL: [Shim; 5] = [Shim::Filesystem, Shim::Dns, Shim::Signals, Shim::DatabaseProxy, Shim::Threading];

    /// The WIT package, without its version.
    pub const PACKAGE: &str = "warpgrid:shim";

    /// The package version this warp implements.
    pub const VERSION: &str = "0.1.0";

    /// What every shim import starts with, in a component (`warpgrid:shim/dns@0.1.0`)
    /// and in a core module's import module names alike.
    pub const IMPORT_PREFIX: &str = "warpgrid:shim/";

    /// The interface's name in WIT: `database-proxy`.
    pub fn interface(self) -> &'static str {
        match self {
            Shim::Filesystem => "filesystem",
            Shim::Dns => "dns",
            Shim::Signals => "signals",
            Shim::DatabaseProxy => "database-proxy",
            Shim::Threading => "threading",
        }
    }

    /// The shim with this WIT interface name.
    pub fn from_interface(name: &str) -> Option<Shim> {
        Shim::ALL.into_iter().find(|shim| shim.interface() == name)
    }

    /// The name a component imports it by: `warpgrid:shim/dns@0.1.0`.
    pub fn import_name(self) -> String {
        format!("{}{}@{}", Shim::IMPORT_PREFIX, self.interface(), Shim::VERSION)
    }

    /// The shim an import names, at any version of the package
    /// (`warpgrid:shim/dns@0.1.0` and `warpgrid:shim/dns` are both `Dns`);
    /// `None` for other packages and for interfaces the package does not have.
    pub fn from_import(name: &str) -> Option<Shim> {
        let path = name.split_once('@').map_or(name, |(path, _)| path);
        Shim::from_interface(path.strip_prefix(Shim::IMPORT_PREFIX)?)
    }

    /// The `warp.toml` lines that enable it, for error messages.
    pub fn config_snippet(self) -> &'static str {
        match self {
            Shim::Filesystem => "[shims] filesystem = true",
            Shim::Dns => "[shims.dns]",
            Shim::Signals => "[shims] signals = true",
            Shim::DatabaseProxy => "[[shims.database]]",
            Shim::Threading => "[shims] threading = \"cooperative\"",
        }
    }

    /// `dns, database-proxy`: shims for a message.
    pub fn list(shims: &[Shim]) -> String {
        shims.iter().map(|shim| shim.interface()).collect::<Vec<_>>().join(", ")
    }
}

impl fmt::Display for Shim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shim_package() -> (wit_parser::Resolve, wit_parser::PackageId) {
        let mut resolve = wit_parser::Resolve::default();
        let (package, _) = resolve.push_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/wit")).unwrap();
        (resolve, package)
    }

    #[test]
    fn the_enum_is_the_wit_package() {
        let (resolve, id) = shim_package();
        let package = &resolve.packages[id];
        assert_eq!(package.name.to_string(), format!("{}@{}", Shim::PACKAGE, Shim::VERSION));
        let interfaces: Vec<&str> = package.interfaces.keys().map(String::as_str).collect();
        let ours: Vec<&str> = Shim::ALL.iter().map(|shim| shim.interface()).collect();
        assert_eq!(interfaces, ours);
    }

    #[test]
    fn the_shims_world_imports_every_shim() {
        // The runner's bindings, the SDK's and `lang::c`'s embedded types
        // are all generated from world `shims`.
        let (resolve, id) = shim_package();
        let world = resolve.select_world(&[id], Some("shims")).unwrap();
        let mut imported: Vec<String> = resolve.worlds[world]
            .imports
            .keys()
            .map(|key| resolve.name_world_key(key))
            .filter(|name| name.starts_with(Shim::IMPORT_PREFIX))
            .collect();
        imported.sort();
        let mut ours: Vec<String> = Shim::ALL.iter().map(|shim| shim.import_name()).collect();
        ours.sort();
        assert_eq!(imported, ours);
    }

    #[test]
    fn import_names_round_trip() {
        for shim in Shim::ALL {
            assert_eq!(Shim::from_import(&shim.import_name()), Some(shim));
            assert_eq!(Shim::from_interface(&shim.to_string()), Some(shim));
        }
        assert_eq!(Shim::from_import("warpgrid:shim/database-proxy"), Some(Shim::DatabaseProxy));
        assert_eq!(Shim::from_import("warpgrid:shim/telepathy@0.1.0"), None);
        assert_eq!(Shim::from_import("acme:shim/dns@0.1.0"), None);
        assert_eq!(Shim::list(&[Shim::Dns, Shim::DatabaseProxy]), "dns, database-proxy");
    }
}
