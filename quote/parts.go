package quote

// HasPart reports whether code is a part of the list.
func (l PriceList) HasPart(code string) bool {
	for _, p := range l.Parts {
		if p.Code == code {
			return true
		}
	}
	return false
}
