// Package templates ships the report templates: the checklist and the
// photo slots of the on-site appraisal report (鉴定单) for each product
// category, as data.
//
// Each template is one JSON file under data/ (tv.json, phone.json,
// appliance.json, furniture.json) in the form of fieldsync.Template,
// embedded in the binary and parsed once at start-up. The items follow
// what an appraisal really checks in the after-sales manuals the product
// is built from: a TV's screen broken on unpacking (开箱碎屏) and its
// accessories (remote, stand) for a return; a phone's IMEI against the
// invoice, its water-damage indicator, network-access label and signs of
// opening; an appliance's installation, voltage and leaks; furniture's
// transport damage, hardware and dimensions. Every template asks for a
// photo of the serial plate (or IMEI) and of the invoice, the evidence the
// warranty decision rests on.
//
// Item, option and slot ids are stable snake_case: answers and photos of
// signed reports refer to them, so a change of meaning takes a new template
// version (a new id such as "tv-v2"), never an edit of an id in place.
//
// The accessors return copies; callers may modify what they get.
package templates
