//go:build !unix

package stdio

import (
	"errors"
	"os"
)

// Elsewhere the standard streams are left as they are.
func setNonblock(*os.File, bool) error { return errors.ErrUnsupported }
