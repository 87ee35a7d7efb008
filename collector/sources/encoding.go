package sources

// Text encodings of the files people send (rule « encodages » of docs/regles.md). French Excel saves
// CSV in Windows-1252, LibreOffice in UTF-8, some tools in UTF-16 with a BOM. Everything is stored as
// UTF-8: an accented commune name must compare equal to the reference's whatever the tool that wrote it.
//   - auto (default): a UTF-16 BOM decodes UTF-16; a UTF-8 BOM is dropped; valid UTF-8 is read as is;
//     every byte that is not valid UTF-8 is read as Windows-1252 and counted, and the run summary says
//     how many characters were converted;
//   - utf-8, utf-16, windows-1252 (--encoding) force one: invalid UTF-8 then becomes U+FFFD, counted.

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// Encodings accepted by --encoding.
var Encodings = []string{"auto", "utf-8", "utf-16", "windows-1252"}

// NormalizeEncoding maps the accepted names and their usual aliases to one of Encodings; ok is false
// for anything else.
func NormalizeEncoding(name string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "auto":
		return "auto", true
	case "utf-8", "utf8":
		return "utf-8", true
	case "utf-16", "utf16":
		return "utf-16", true
	case "windows-1252", "cp1252", "latin1", "latin-1", "iso-8859-1", "iso-8859-15":
		return "windows-1252", true
	}
	return "", false
}

var (
	bomUTF8    = []byte{0xEF, 0xBB, 0xBF}
	bomUTF16LE = []byte{0xFF, 0xFE}
	bomUTF16BE = []byte{0xFE, 0xFF}
)

// textDecoder turns a text file into UTF-8 and tells, at the end, what it did.
type textDecoder struct {
	name      string // encoding read: "UTF-8", "UTF-16", "Windows-1252"
	converted *int   // characters read as Windows-1252 (auto) or replaced (utf-8)
	forced    bool
}

// note is the run summary's line about the encoding, "" when the file was plain UTF-8.
func (d *textDecoder) note() string {
	n := 0
	if d.converted != nil {
		n = *d.converted
	}
	switch {
	case d.name == "UTF-16":
		return "encodage UTF-16 décodé"
	case d.name == "Windows-1252" && d.forced:
		return "encodage Windows-1252 (imposé par --encoding)"
	case d.name == "UTF-8" && n > 0:
		return fmt.Sprintf("encodage UTF-8 imposé : %d octet(s) invalide(s) remplacé(s) par « \uFFFD »", n)
	case n > 0:
		return fmt.Sprintf("encodage : fichier non UTF-8, %d caractère(s) lu(s) en Windows-1252 (forcer avec --encoding)", n)
	}
	return ""
}

// decodeText wraps br according to encoding (one of Encodings, "" meaning auto).
func decodeText(br *bufio.Reader, encoding string) (*bufio.Reader, *textDecoder, error) {
	enc, ok := NormalizeEncoding(encoding)
	if !ok {
		return nil, nil, fmt.Errorf("encodage « %s » inconnu (valeurs admises : %s)", encoding, strings.Join(Encodings, ", "))
	}
	head, _ := br.Peek(3)
	d := &textDecoder{converted: new(int), forced: enc != "auto"}
	wrap := func(t transform.Transformer) *bufio.Reader {
		return bufio.NewReaderSize(transform.NewReader(br, t), 64<<10)
	}
	switch {
	case enc == "utf-16" || (enc == "auto" && (bytes.HasPrefix(head, bomUTF16LE) || bytes.HasPrefix(head, bomUTF16BE))):
		d.name = "UTF-16"
		return wrap(unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()), d, nil
	case enc == "windows-1252":
		d.name = "Windows-1252"
		return wrap(charmap.Windows1252.NewDecoder()), d, nil
	}
	if bytes.HasPrefix(head, bomUTF8) {
		_, _ = br.Discard(3)
	}
	d.name = "UTF-8"
	if enc == "auto" {
		d.name = "auto"
	}
	return wrap(&utf8OrCP1252{count: d.converted, replace: enc == "utf-8"}), d, nil
}

// utf8OrCP1252 copies valid UTF-8 and reads each invalid byte as Windows-1252 (or U+FFFD when replace).
type utf8OrCP1252 struct {
	transform.NopResetter
	count   *int
	replace bool
}

func (t *utf8OrCP1252) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		c := src[nSrc]
		if c < utf8.RuneSelf {
			if nDst >= len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			dst[nDst] = c
			nDst++
			nSrc++
			continue
		}
		r, size := utf8.DecodeRune(src[nSrc:])
		if r == utf8.RuneError && size == 1 {
			if !atEOF && !utf8.FullRune(src[nSrc:]) {
				return nDst, nSrc, transform.ErrShortSrc // a rune cut by the buffer: wait for the rest
			}
			r = '\uFFFD'
			if !t.replace {
				r = charmap.Windows1252.DecodeByte(c)
			}
			if nDst+utf8.RuneLen(r) > len(dst) {
				return nDst, nSrc, transform.ErrShortDst
			}
			nDst += utf8.EncodeRune(dst[nDst:], r)
			nSrc++
			*t.count++
			continue
		}
		if nDst+size > len(dst) {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += copy(dst[nDst:], src[nSrc:nSrc+size])
		nSrc += size
	}
	return nDst, nSrc, nil
}

// skipBOM drops a UTF-8 BOM at the start of a JSON document (JSON is UTF-8; Windows tools add a BOM).
func skipBOM(br *bufio.Reader) *bufio.Reader {
	if head, _ := br.Peek(3); bytes.HasPrefix(head, bomUTF8) {
		_, _ = br.Discard(3)
	}
	return br
}

var _ io.Reader = (*bufio.Reader)(nil)
