// Package quote prices paid work on the tablet: parts from a price list,
// labour and the call-out fee, in integer fen (1/100 yuan), never floats,
// so a quote has no rounding to disagree about: every line is a unit price
// times a whole quantity, and the total is their sum. The same code builds
// a quote offline on the tablet (Build) and re-checks it on the server
// (Validate), against the same price list version.
//
// The price list is data: a PriceList in the JSON form of the embedded
// default.json, published to tablets as reference data (entity
// price_list, id "default"). The seeds give no prices (they only promise
// "价格公开透明"): every amount in default.json is a placeholder that a
// deployment replaces with its own list, under a new version.
//
// Accessories carry what a return or an exchange deducts from the refund
// for each accessory missing at pick-up (Deductions), per category: the
// warranty policy lists which accessories are collected (退机附件: box,
// remote, stand…), the price list prices them. The seeds say a missing
// one "也许会导致退款时扣除对应款项" without amounts, so these are
// placeholders too.
//
// Labour is priced by the item (a diagnosis, a started 30 minutes of
// repair), not by the hour, for the same reason: a fraction of an hour
// would need rounding.
package quote
