package sources

// Opening input files and reporting what breaks in them, the same way for every source (rule
// « fichiers » of docs/regles.md): a missing, unreadable or directory path is a French error (exit 1);
// a file refused as a whole for its content is ingest.ErrInvalidInput (exit 4); a file that breaks
// midway keeps what was read before the break and costs one reject for the rest (ingest.TruncatedError).

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/sdaasp-rhone/fne/collector/ingest"
)

// openFile opens a local input, with a French error.
func openFile(path string) (*os.File, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return nil, fmt.Errorf("%s est un dossier : un fichier est attendu", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fileErr(path, err)
	}
	return f, nil
}

// fileErr translates a system error about path (the original stays reachable with errors.Unwrap).
func fileErr(path string, err error) error {
	var msg string
	switch {
	case errors.Is(err, fs.ErrNotExist):
		msg = "fichier introuvable : " + path
	case errors.Is(err, fs.ErrPermission):
		msg = "lecture de " + path + " refusée (droits du fichier insuffisants)"
	case errors.Is(err, syscall.EISDIR):
		msg = path + " est un dossier : un fichier est attendu"
	default:
		msg = "lecture de " + path + " impossible (erreur du système)"
	}
	return &frError{msg: msg, err: err}
}

// frError is a French message for an error of the system or of a library, which it keeps for the logs.
type frError struct {
	msg string
	err error
}

func (e *frError) Error() string { return e.msg }
func (e *frError) Unwrap() error { return e.err }

// jsonErrFR says in French why a JSON document could not be read.
func jsonErrFR(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "fin du fichier au milieu d'un élément (fichier tronqué)"
	case errors.As(err, &se):
		return "syntaxe JSON invalide"
	case errors.As(err, &te):
		return "valeur JSON d'un type inattendu"
	}
	var fe *frError
	if errors.As(err, &fe) {
		return fe.msg
	}
	return "syntaxe JSON invalide"
}

// frMsg is one of our own French messages, as an error that jsonErrFR keeps as it is.
func frMsg(s string) error { return &frError{msg: s} }

// brokenJSON is the error of a JSON file that stops being readable at byte offset after records
// records: a whole-file refusal when nothing was read, else a truncation that keeps the records read.
func brokenJSON(path string, records int, offset int64, err error, rest string) error {
	why := jsonErrFR(err)
	if records == 0 {
		return &frError{msg: fmt.Sprintf("%v : %s : JSON illisible dès le début (octet %d) : %s", ingest.ErrInvalidInput, path, offset, why), err: errors.Join(ingest.ErrInvalidInput, err)}
	}
	return &ingest.TruncatedError{
		Position: fmt.Sprintf("octet %d", offset),
		Reason: fmt.Sprintf("reste du fichier illisible à partir de l'octet %d, après %d enregistrement(s) importé(s) : %s",
			offset, records, why),
		Raw: rest,
	}
}
