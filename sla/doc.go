// Package sla holds the service-level promises of after-sales field service
// as data, and the rules that turn them into deadlines and states.
//
// A Policy is a set of Rules, each an amount in a Unit:
//
//   - first contact: the customer is called within 24 clock hours of the
//     ticket (seeds: "工作人员将在24小时内联络");
//   - on-site: a technician is at the door within 24 business hours in a
//     city, 48 in a suburb, 72 in a township ("都市内24小时、周围郊区内48小时、
//     乡镇内72小时服务到位"), counted on working days only;
//   - follow-up: a satisfaction call within 3 working days of completion
//     ("3个工作日内……回访");
//   - second visit: when parts must be ordered, the technician returns within
//     5 working days ("二次上门维修……一般需要3-5个工作日完成器件申请"; we
//     promise the upper end).
//
// The defaults are the embedded default.json (DefaultPolicy); a deployment
// may load its own with ParsePolicy, which is strict. Deadlines are counted
// on a calendar.Calendar (weekends, public holidays and make-up working
// days), see Policy.Deadline; State says whether a promise is ok, at risk
// (less than Policy.AtRisk left) or breached. A visit's on-site promise
// settles when its work is over: Policy.VisitState gives met or missed,
// with the minutes early or late, and Warnings flags a booked window that
// ends after the deadline.
//
// The package is pure: no I/O, no clock of its own (callers pass now), so
// the technician's tablet and the server compute the same answers.
package sla
