"""The district's local time. Times are stored in UTC and shown, and reasoned about (opening
hours, "today", deadlines, the month of a case), in Asia/Shanghai: one zone object for every app."""

from zoneinfo import ZoneInfo

LOCAL = ZoneInfo("Asia/Shanghai")
