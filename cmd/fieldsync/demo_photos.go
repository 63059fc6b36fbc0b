package main

import (
	"bytes"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// demoPhoto draws a picture for a demo report's photo slot: a gradient
// and stripes coloured by the slot and the visit, with the slot's name
// and a caption written on a white band, so a viewer sees which slot a
// photo fills. It is a JPEG, or a PNG when asPNG (scans, like an
// invoice, are often PNGs).
func demoPhoto(slot, caption string, asPNG bool) ([]byte, error) {
	const w, h = 640, 480
	seed := fnv.New32a()
	seed.Write([]byte(slot + "\x00" + caption))
	s := seed.Sum32()
	base := color.RGBA{R: uint8(40 + s%120), G: uint8(40 + (s>>8)%120), B: uint8(40 + (s>>16)%120), A: 255}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			c := base
			shade := uint8((x + y) * 60 / (w + h))
			c.R, c.G, c.B = c.R+shade, c.G+shade, c.B+shade
			if (x+y+int(s%40))/40%2 == 0 {
				c.R, c.G, c.B = c.R-c.R/5, c.G-c.G/5, c.B-c.B/5
			}
			img.SetRGBA(x, y, c)
		}
	}
	band := image.Rect(0, h/2-40, w, h/2+40)
	draw.Draw(img, band, image.NewUniform(color.White), image.Point{}, draw.Src)
	d := font.Drawer{Dst: img, Src: image.NewUniform(color.Black), Face: basicfont.Face7x13}
	for i, line := range []string{slot, caption} {
		d.Dot = fixed.P(24, band.Min.Y+30+i*26)
		d.DrawString(line)
	}
	var buf bytes.Buffer
	var err error
	if asPNG {
		err = png.Encode(&buf, img)
	} else {
		err = jpeg.Encode(&buf, img, &jpeg.Options{Quality: 85})
	}
	return buf.Bytes(), err
}
