//! Host bindings of the WIT packages this build supports, one module per released
//! API version (`wit/host.wit`'s versioning rule: a released interface is frozen, so a
//! new version gets a module beside the old ones and both keep loading).

pub mod v0_1_0;
