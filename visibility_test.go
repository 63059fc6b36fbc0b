package fieldsync

import "testing"

func TestViewerSees(t *testing.T) {
	ticket := &Ticket{ID: "t1", CustomerID: "c1"}
	visit := &Visit{ID: "v1", TicketID: "t1", TechnicianID: "tech1"}
	tests := []struct {
		name   string
		viewer Viewer
		visit  *Visit
		want   bool
	}{
		{"an admin sees any ticket", Viewer{UserID: "a", Role: RoleAdmin}, nil, true},
		{"a dispatcher sees any visit", Viewer{UserID: "d", Role: RoleDispatcher}, visit, true},
		{"a technician sees the visit assigned to them", Viewer{UserID: "tech1", Role: RoleTechnician}, visit, true},
		{"a technician does not see another technician's visit", Viewer{UserID: "tech2", Role: RoleTechnician}, visit, false},
		{"a technician does not read a ticket on its own", Viewer{UserID: "tech1", Role: RoleTechnician}, nil, false},
		{"a customer sees their own ticket", Viewer{UserID: "u1", Role: RoleCustomer, CustomerIDs: []string{"c0", "c1"}}, nil, true},
		{"a customer sees the visits of their own ticket", Viewer{UserID: "u1", Role: RoleCustomer, CustomerIDs: []string{"c1"}}, visit, true},
		{"a customer does not see another customer's ticket", Viewer{UserID: "u2", Role: RoleCustomer, CustomerIDs: []string{"c2"}}, visit, false},
		{"a customer login with no record sees nothing", Viewer{UserID: "u3", Role: RoleCustomer}, nil, false},
		{"an unknown role sees nothing", Viewer{UserID: "x", Role: "guest"}, visit, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.viewer.Sees(ticket, tt.visit); got != tt.want {
				t.Fatalf("Sees = %v, want %v", got, tt.want)
			}
		})
	}
}
