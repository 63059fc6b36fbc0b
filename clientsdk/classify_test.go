package clientsdk

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/fieldsync/fieldsync"
)

func TestClassify(t *testing.T) {
	answer := func(code string) error {
		return fmt.Errorf("PATCH /v1/media/uploads/u1: 400: %w", &fieldsync.Error{Code: code, Detail: "said the server"})
	}
	for _, tc := range []struct {
		name string
		err  error
		want class
	}{
		{"no error succeeded", nil, succeeded},
		{"a cut network is retried later", errNetDown, retryLater},
		{"a request that timed out is retried later", context.DeadlineExceeded, retryLater},
		{"a server that is down is retried later", answer(fieldsync.EUnavailable), retryLater},
		{"a server that asks to slow down is retried later", answer(fieldsync.ETooMany), retryLater},
		{"a revoked device ends the session", fmt.Errorf("push: %w", ErrDeviceRevoked), sessionEnded},
		{"a session the server ended ends it", fmt.Errorf("pull: %w", ErrSignedOut), sessionEnded},
		{"a file that is not an image is refused for good", answer(fieldsync.ENotAnImage), refusedForGood},
		{"an image too large is refused for good", answer(fieldsync.EImageTooLarge), refusedForGood},
		{"a photo over the size limit is refused for good", answer(fieldsync.ETooLarge), refusedForGood},
		{"a forbidden report is refused for good", answer(fieldsync.EForbidden), refusedForGood},
		{"an unsupported content type is refused for good", answer(fieldsync.EUnsupported), refusedForGood},
		{"a report signed as the server does not hold it is refused for good", answer(fieldsync.ESealHashMismatch), refusedForGood},
		{"a signature the device key does not verify is refused for good", answer(fieldsync.EBadDeviceSignature), refusedForGood},
		{"a request found malformed is rejected", answer(fieldsync.EInvalid), bodyRejected},
		{"a chunk that does not match its checksum is rejected", answer(fieldsync.EChecksumMismatch), bodyRejected},
		{"a report the server does not have is absent", answer(fieldsync.ENotFound), absent},
		{"an expired upload is absent", answer(fieldsync.EUploadExpired), absent},
		{"an upload at another offset has moved", answer(fieldsync.EOffsetMismatch), offsetMoved},
		{"an unknown code is retried later", answer("something_new"), retryLater},
		{"an error without a code is retried later", errors.New("the server's answer lacks tokens"), retryLater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := classify(tc.err); got != tc.want {
				t.Errorf("classify(%v) = %d, want %d", tc.err, got, tc.want)
			}
		})
	}
}
