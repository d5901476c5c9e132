//! Readable names and colours of the action tags, as data.
//!
//! Taken from EditGroups' `tagging/models.py` and its data migrations, with its
//! duplicated keys resolved the way Python resolved them (the last value wins).

/// Green: actions that add.
pub(super) const ADD: &str = "#5cb85c";
/// Yellow: actions that set, change or update.
pub(super) const CHANGE: &str = "#f0ad4e";
/// Red: actions that remove.
pub(super) const REMOVE: &str = "#d9534f";
/// Gray: the default colour, and bulk updates.
pub(super) const GRAY: &str = "#939393";
/// Blue: undo.
pub(super) const UNDO: &str = "#372fc5";
/// Merges and redirects.
pub(super) const MERGE: &str = "pink";
/// Creations.
pub(super) const CREATE: &str = "purple";

/// (tag id, readable name, colour) for every known action.
pub(super) const ACTIONS: &[(&str, &str, &str)] = &[
    ("wbsetitem", "new items", CREATE),
    ("wbcreate-new", "new items", CREATE),
    ("wbcreateredirect", "new redirects", MERGE),
    ("wbeditentity", "new items", CREATE),
    ("wbeditentity-create", "new entities", CREATE),
    ("wbeditentity-update", "edits entities", GRAY),
    ("wbeditentity-override", "clears items", CREATE),
    ("wbsetreference", "sets references", CHANGE),
    ("wbsetreference-add", "adds references", ADD),
    ("wbsetreference-set", "changes references", CHANGE),
    ("wbsetlabel-add", "adds labels", ADD),
    ("wbsetlabel-set", "changes labels", CHANGE),
    ("wbsetlabel-remove", "removes labels", REMOVE),
    ("wbsetdescription-add", "adds descriptions", ADD),
    ("wbsetdescription-set", "changes descriptions", CHANGE),
    ("wbsetdescription-remove", "removes descriptions", REMOVE),
    ("wbsetaliases-set", "sets aliases", CHANGE),
    ("wbsetaliases-add-remove", "sets aliases", CHANGE),
    ("wbsetaliases-add", "sets aliases", ADD),
    ("wbsetaliases-remove", "removes aliases", REMOVE),
    ("wbsetaliases-update", "changes aliases", CHANGE),
    ("wbsetlabeldescriptionaliases", "changes terms", GRAY),
    ("wbsetsitelink-add", "adds sitelinks", ADD),
    ("wbsetsitelink-add-both", "adds sitelinks and badges", ADD),
    ("wbsetsitelink-set", "changes sitelinks", CHANGE),
    ("wbsetsitelink-set-badges", "changes badges", CHANGE),
    (
        "wbsetsitelink-set-both",
        "changes sitelinks and badges",
        CHANGE,
    ),
    ("wbsetsitelink-remove", "removes sitelinks", REMOVE),
    ("wblinktitles-create", "clears items", CREATE),
    ("wblinktitles-connect", "new sitelinks", CREATE),
    ("wbcreateclaim-value", "adds claims", ADD),
    ("wbcreateclaim-novalue", "new novalue claims", ADD),
    ("wbcreateclaim-somevalue", "new somevalue claims", ADD),
    ("wbcreateclaim", "adds claims", ADD),
    ("wbsetclaimvalue", "changes claim values", CHANGE),
    ("wbremoveclaims", "removes claims", REMOVE),
    ("wbremoveclaims-remove", "removes claims", REMOVE),
    ("wbremoveclaims-update", "removes claims", REMOVE),
    ("special-create-item", "new items", CREATE),
    ("special-create-property", "new properties", CREATE),
    ("wbcreateclaim-create", "adds claims", ADD),
    ("wbsetclaim-update", "changes claims", CHANGE),
    ("wbsetclaim-create", "adds claims", ADD),
    ("wbsetclaim-update-qualifiers", "changes qualifiers", CHANGE),
    ("wbsetclaim-update-references", "changes references", CHANGE),
    ("wbsetclaim-update-rank", "changes ranks", CHANGE),
    ("clientsitelink-update", "sitelinks moved", CHANGE),
    ("clientsitelink-remove", "sitelinks deleted", REMOVE),
    ("wbsetqualifier-add", "adds qualifiers", ADD),
    ("wbsetqualifier-update", "changes qualifiers", CHANGE),
    ("wbremovequalifiers-remove", "removes qualifiers", REMOVE),
    ("wbremovereferences-remove", "removes references", REMOVE),
    ("wbmergeitems-from", "merges items", MERGE),
    ("wbmergeitems-to", "merges items", MERGE),
    ("wbeditentity-create-item", "new items", CREATE),
    ("wbeditentity-create-property", "new properties", CREATE),
    ("wbeditentity-update-languages", "updates terms", CHANGE),
    (
        "wbeditentity-update-languages-short",
        "updates terms",
        CHANGE,
    ),
    (
        "wbeditentity-update-languages-and-other",
        "updates terms and statements",
        CHANGE,
    ),
    (
        "wbeditentity-update-languages-and-other-short",
        "updates terms and statements",
        CHANGE,
    ),
    ("wbeditentity-create-lexeme", "new lexemes", CREATE),
    ("wbeditentity-create-form", "new forms", CREATE),
    ("wbeditentity-create-sense", "new senses", CREATE),
    ("add-form", "adds forms", ADD),
    ("remove-form", "removes forms", REMOVE),
    (
        "update-form-representations",
        "updates form representations",
        CHANGE,
    ),
    ("add-form-representations", "adds form representations", ADD),
    (
        "set-form-representations",
        "changes form representations",
        CHANGE,
    ),
    (
        "remove-form-representations",
        "removes form representations",
        REMOVE,
    ),
    (
        "update-form-grammatical-features",
        "updates grammatical features",
        CHANGE,
    ),
    (
        "add-form-grammatical-features",
        "adds grammatical features",
        ADD,
    ),
    (
        "remove-form-grammatical-features",
        "removes grammatical features",
        REMOVE,
    ),
    ("update-form-elements", "updates forms", CHANGE),
    ("add-sense", "adds senses", ADD),
    ("remove-sense", "removes senses", REMOVE),
    ("update-sense-glosses", "updates glosses", CHANGE),
    ("add-sense-glosses", "adds glosses", ADD),
    ("set-sense-glosses", "changes glosses", CHANGE),
    ("remove-sense-glosses", "removes glosses", REMOVE),
    ("update-sense-elements", "changes glosses", CHANGE),
    ("undo", "undo edits", UNDO),
    ("delete", "delete items", CHANGE_TYPE),
    ("restore", "restore items", CHANGE_TYPE),
    ("upload", "uploads files", CHANGE_TYPE),
];

/// Colour of the change-type tags (`delete`, `restore`, `upload`).
pub(super) const CHANGE_TYPE: &str = "#dc4ec9";
/// Colour of property tags.
pub(super) const PROPERTY: &str = "#5180bc";
/// Colour of language and site tags.
pub(super) const LANGUAGE: &str = "#3eabab";
