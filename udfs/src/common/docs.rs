//! Documentation sections, one per family, as shown by `SHOW FUNCTIONS`-style
//! listings and in the crate README.

use datafusion::logical_expr::DocSection;

pub(crate) const IDENTITY: DocSection = DocSection {
    include: true,
    label: "Identity Number Functions",
    description: Some("Resident identity numbers (公民身份号码, GB 11643)."),
};

pub(crate) const CREDIT_CODE: DocSection = DocSection {
    include: true,
    label: "Credit Code Functions",
    description: Some(
        "Unified Social Credit Codes (统一社会信用代码, GB 32100) and organisation codes (GB 11714).",
    ),
};

pub(crate) const MASKING: DocSection = DocSection {
    include: true,
    label: "Masking Functions",
    description: Some("Display masks and pseudonyms applied by data governance."),
};

pub(crate) const NAMES: DocSection = DocSection {
    include: true,
    label: "Name Functions",
    description: Some("Normalising and comparing personal names, and general string similarity."),
};

pub(crate) const PHONES: DocSection = DocSection {
    include: true,
    label: "Phone Functions",
    description: Some("Mainland China mobile and landline numbers."),
};

pub(crate) const ADDRESSES: DocSection = DocSection {
    include: true,
    label: "Address Functions",
    description: Some("Parsing Chinese addresses and building household blocking keys."),
};

pub(crate) const HOUSEHOLDS: DocSection = DocSection {
    include: true,
    label: "Household and Linkage Functions",
    description: Some(
        "Relations to the household head (GB/T 4761), household keys, and turning match pairs into entity ids.",
    ),
};

pub(crate) const ENTERPRISE: DocSection = DocSection {
    include: true,
    label: "Enterprise Functions",
    description: Some("Company names and safety-inspection risk grading for enterprise profiles."),
};
