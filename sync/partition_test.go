package syncproto

import (
	"slices"
	"testing"

	"github.com/fieldsync/fieldsync"
)

func TestPartitionsFor(t *testing.T) {
	tests := []struct {
		name string
		role fieldsync.Role
		want []string
	}{
		{"an admin pulls every record and the reference data", fieldsync.RoleAdmin, []string{"all", "shared"}},
		{"a dispatcher pulls every record and the reference data", fieldsync.RoleDispatcher, []string{"all", "shared"}},
		{"a technician pulls their own visits and the reference data", fieldsync.RoleTechnician, []string{"u:u1", "shared"}},
		{"a customer pulls nothing", fieldsync.RoleCustomer, nil},
		{"an unknown role pulls nothing", fieldsync.Role("intruder"), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PartitionsFor("u1", tt.role); !slices.Equal(got, tt.want) {
				t.Fatalf("PartitionsFor(u1, %s) = %q, want %q", tt.role, got, tt.want)
			}
		})
	}
}
