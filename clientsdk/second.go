package clientsdk

import (
	"encoding/json"

	"github.com/fieldsync/fieldsync"
)

// NeedSecondVisit ends the visit needs_second_visit, asking the next
// visit to bring need's parts (price-list codes, checked on the pulled
// price list when the device has it) with its note. EInvalid names a
// part that is wrong; otherwise as Depart.
func (c *Client) NeedSecondVisit(visitID string, need fieldsync.SecondVisit) error {
	if need.Parts == nil {
		need.Parts = []fieldsync.PartNeed{}
	}
	var known func(string) bool
	if l, err := c.PriceList(); err == nil {
		known = l.HasPart
	}
	if err := need.Validate(known); err != nil {
		return err
	}
	parts, err := json.Marshal(need.Parts)
	if err != nil {
		return err
	}
	fields := map[string]json.RawMessage{"parts": parts}
	if need.Note != "" {
		fields["note"] = jsonString(need.Note)
	}
	return c.visitAction(visitID, fieldsync.ActionNeedSecondVisit, fields)
}
