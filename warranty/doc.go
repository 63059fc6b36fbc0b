// Package warranty decides the after-sales remedy a customer is entitled
// to under 三包 (return, exchange, repair): the same answer on a
// technician's tablet offline and on the server.
//
// Start with Decide: it takes a Policy (the terms per product category, as
// data), the business calendar and an Input (category, dates, who is
// responsible, the item's condition, the failed part and its earlier
// repairs) and returns a Decision: the recommended Outcome, every remedy
// on offer, and an explanation line per rule in zh-CN and en, e.g.
// "发票日期 2026-03-02，已 265 天：整机保修 1 年适用" / "invoice 2026-03-02,
// 265 days ago: the 1-year whole-unit warranty applies".
//
// Counting. The warranty starts at the invoice date, else the receipt
// date, else the manufacture date plus Policy.ManufactureGrace (3 months).
// The start day itself is not counted (民法典 第二百零一条): bought on the
// 1st, the 8th is day 7, and "within 7 days" includes day 7. Periods in
// months or years end on the same day of the month, or the month's last
// day when there is none (2028-02-29 plus a year is 2029-02-28). A period
// in working days (furniture) counts working days on the calendar.
//
// The rules, in order: damage the customer caused leaves only a paid
// repair; a product fault (the unit or a major part) that is a quality or
// transport fault may be returned or exchanged within those windows if
// the item is unworn with labels and serial sticker intact, a missing
// accessory being deducted; an accessory (battery, earphones, charger,
// cable) only has its own warranty; the failed part is repaired free
// within its warranty, or within the repaired-part warranty of its latest
// repair; a paid repair is always on offer.
//
// The policy is data: the embedded default.json (DefaultPolicy, numbers
// from the seeds, see defaultJSON) or a file read with ParsePolicy, which
// is strict. The repaired part's own warranty (Policy.RepairWarranty) has
// no firm number in the seeds; the default, 6 months, is the seeds'
// example. Deduction amounts are not policy: the policy lists which
// accessories are collected, and the price list prices them.
//
// Request is the JSON form of an Input (dates as "YYYY-MM-DD").
//
// The package is pure: no I/O and no clock (the caller passes the visit
// date), so the tablet and the server compute the same answers.
package warranty
