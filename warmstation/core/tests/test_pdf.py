"""The shared PDF blocks: the CJK font is embedded and reads back, the QR code decodes."""

import subprocess

import zxingcpp
from PIL import Image
from reportlab.graphics import renderPDF
from reportlab.pdfgen.canvas import Canvas

from warmstation.core.pdf import cjk_font, qr_drawing


def test_chinese_text_is_embedded_and_the_qr_code_decodes(tmp_path):
    path = tmp_path / "card.pdf"
    canvas = Canvas(str(path))
    canvas.setFont(cjk_font(), 14)
    canvas.drawString(72, 760, "暖心驿站 服务热线 12345")
    renderPDF.draw(qr_drawing("https://example.org/areas/GC/", 144), canvas, 72, 560)
    canvas.save()

    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True,
                           check=True).stdout
    line = next(line for line in fonts.splitlines() if "WenQuanYi" in line)
    assert line.split()[-5] == "yes"  # emb
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "暖心驿站 服务热线 12345" in text

    subprocess.run(["pdftoppm", "-png", "-r", "150", "-singlefile", str(path),
                    str(tmp_path / "card")], check=True)
    results = zxingcpp.read_barcodes(Image.open(tmp_path / "card.png"))
    assert [(r.format, r.text) for r in results] == [
        (zxingcpp.BarcodeFormat.QRCode, "https://example.org/areas/GC/")]
