pub(crate) mod attribution_join;
pub(crate) mod barrier;
pub(crate) mod lineage;
pub(crate) mod mask_switch;
pub(crate) mod raw_key_join;
mod seam;

pub use seam::*;
