package syncproto

import "github.com/fieldsync/fieldsync"

var templateFixture = fieldsync.Template{ID: "tv-v1", Version: 1, Category: fieldsync.CategoryTV, Items: []fieldsync.ChecklistItem{
	{ID: "power_on", Type: fieldsync.ItemYesNo, Required: true},
	{ID: "notes", Type: fieldsync.ItemText},
}}

var reportFixture = fieldsync.Report{ID: "r", VisitID: "v", TemplateID: "tv-v1", Status: fieldsync.ReportDraft}
