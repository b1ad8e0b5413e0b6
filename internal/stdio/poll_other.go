//go:build !unix

package stdio

import (
	"errors"
	"os"
)

var fifosPollable = false

// pollableTwin fails here, so PollStdin returns stdin unchanged.
func pollableTwin(*os.File) (*os.File, func(), error) { return nil, nil, errors.ErrUnsupported }
