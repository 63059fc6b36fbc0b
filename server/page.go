package server

// page is the body of every list answer. A list read a page at a time
// always carries next_cursor, empty on its last page; a list answered
// whole has none.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor,omitempty"`
}

// whole answers a list that is never paged.
func whole[T any](items []T) page[T] { return page[T]{Items: items} }

// paged answers one page of a list; next is empty on the last page.
func paged[T any](items []T, next string) page[T] { return page[T]{Items: items, NextCursor: &next} }
