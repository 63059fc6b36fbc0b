package clientsdk

import (
	"bytes"

	"github.com/fieldsync/fieldsync"
	"github.com/fieldsync/fieldsync/media/signature"
)

// The size of the signature images AttachSignature makes, in pixels.
const (
	SignatureWidth  = 600
	SignatureHeight = 200
)

// AttachSignature draws strokes as a PNG that carries them (see
// media/signature) and attaches it, like a photo, to the report's
// signature slot of role: "customer" (signature_customer) or
// "technician" (signature_technician). It works offline, and the image
// uploads with the photos. The same strokes give the same PNG, so
// attaching them again returns the first attachment.
//
// Errors: EInvalid for another role or strokes that do not validate, and
// those of AttachPhoto.
func (c *Client) AttachSignature(reportID, role string, strokes signature.Strokes) (PhotoRef, error) {
	if c.isClosed() {
		return PhotoRef{}, ErrClosed
	}
	var slot string
	switch role {
	case "customer":
		slot = fieldsync.SlotSignatureCustomer
	case "technician":
		slot = fieldsync.SlotSignatureTechnician
	default:
		return PhotoRef{}, fieldsync.Errorf(fieldsync.EInvalid, "signature role %q: use customer or technician", role)
	}
	if reportID == "" {
		return PhotoRef{}, fieldsync.Errorf(fieldsync.EInvalid, "report id is required")
	}
	png, err := signature.Render(strokes, SignatureWidth, SignatureHeight)
	if err != nil {
		return PhotoRef{}, err
	}
	if err := c.view(func(rd *reader) error { _, err := rd.report(reportID); return err }); err != nil {
		return PhotoRef{}, err
	}
	return c.attach(reportID, slot, slot+".png", bytes.NewReader(png), c.opts.Now())
}
