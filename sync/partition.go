package syncproto

import "github.com/fieldsync/fieldsync"

// Partitions of the pull feed. A store places each change in the
// partition of everyone who sees the record: every record in
// PartitionAll, reference data (templates, calendars, policies) in
// PartitionShared, and a visit's bundle in the partition of its
// technician. A pull reads the partitions of its caller (PartitionsFor).
// Stores keep these names in their files: never change one.
const (
	PartitionAll    = "all"
	PartitionShared = "shared"
)

// TechnicianPartition names the partition of a technician's visits.
func TechnicianPartition(userID string) string { return "u:" + userID }

// PartitionsFor returns the partitions a user pulls: admins and
// dispatchers see every record, a technician the bundles of their own
// visits; both get the reference data. Other roles pull nothing.
func PartitionsFor(userID string, role fieldsync.Role) []string {
	switch role {
	case fieldsync.RoleAdmin, fieldsync.RoleDispatcher:
		return []string{PartitionAll, PartitionShared}
	case fieldsync.RoleTechnician:
		return []string{TechnicianPartition(userID), PartitionShared}
	}
	return nil
}
