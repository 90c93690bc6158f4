"""The ID card cross-check (issue 21), off the upload path: `checks` (the use case, on
MaterialUploaded: fetch the image, read it, let auth compare, keep auth's verdicts),
`reader` (the pool of OCR worker processes), `ocr_worker` (one such process: `python -m
services.review.idcheck.ocr_worker`), `idcard` (what a photo's text yields and what a
package's reads add up to, pure)."""
