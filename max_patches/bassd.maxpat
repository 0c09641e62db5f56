{
 "patcher": {
  "fileversion": 1,
  "appversion": {
   "major": 8,
   "minor": 5,
   "revision": 0,
   "architecture": "x64",
   "modernui": 1
  },
  "rect": [
   40.0,
   60.0,
   1200.0,
   3368.0
  ],
  "boxes": [
   {
    "box": {
     "id": "obj-1",
     "maxclass": "newobj",
     "text": "udpsend 127.0.0.1 8000",
     "patching_rect": [
      40.0,
      40.0,
      160.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-2",
     "maxclass": "newobj",
     "text": "udpreceive 9000",
     "patching_rect": [
      620.0,
      40.0,
      110.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-3",
     "maxclass": "newobj",
     "text": "route /status/dry_callbacks /status/server_xruns /status/callbacks /status/uptime_s /status/sample_rate /status/block_size /status/renderer /status/segment_index /status/transport /status/partials /status/neural_state /status/neural_rtf /status/vae_state /status/jam_state /status/jam_key /status/jam_chord /status/jam_next_chord /status/jam_tempo_bpm /status/jam_beat /status/search_state /status/scene /status/emotion /status/protocol /status/protocol_stage /status/state /status/bpm /status/baseline_bpm /status/hrv_rmssd_ms /status/hrv_sdnn_ms /status/ble_state /status/prompt /status/osc_dropped /error",
     "patching_rect": [
      620.0,
      80.0,
      520.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 34,
     "outlettype": [
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-10",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      120.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-11",
     "maxclass": "comment",
     "text": "dry_callbacks",
     "patching_rect": [
      620.0,
      120.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-12",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      150.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-13",
     "maxclass": "comment",
     "text": "server_xruns",
     "patching_rect": [
      620.0,
      150.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-14",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      180.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-15",
     "maxclass": "comment",
     "text": "callbacks",
     "patching_rect": [
      620.0,
      180.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-16",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      210.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-17",
     "maxclass": "comment",
     "text": "uptime_s",
     "patching_rect": [
      620.0,
      210.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-18",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      240.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-19",
     "maxclass": "comment",
     "text": "sample_rate",
     "patching_rect": [
      620.0,
      240.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-20",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      270.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-21",
     "maxclass": "comment",
     "text": "block_size",
     "patching_rect": [
      620.0,
      270.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-22",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      300.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-23",
     "maxclass": "comment",
     "text": "renderer",
     "patching_rect": [
      620.0,
      300.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-24",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      330.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-25",
     "maxclass": "comment",
     "text": "segment_index",
     "patching_rect": [
      620.0,
      330.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-26",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      360.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-27",
     "maxclass": "comment",
     "text": "transport",
     "patching_rect": [
      620.0,
      360.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-28",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      390.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-29",
     "maxclass": "comment",
     "text": "partials",
     "patching_rect": [
      620.0,
      390.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-30",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      420.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-31",
     "maxclass": "comment",
     "text": "neural_state",
     "patching_rect": [
      620.0,
      420.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-32",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      450.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-33",
     "maxclass": "comment",
     "text": "neural_rtf",
     "patching_rect": [
      620.0,
      450.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-34",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      480.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-35",
     "maxclass": "comment",
     "text": "vae_state",
     "patching_rect": [
      620.0,
      480.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-36",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      510.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-37",
     "maxclass": "comment",
     "text": "jam_state",
     "patching_rect": [
      620.0,
      510.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-38",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      540.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-39",
     "maxclass": "comment",
     "text": "jam_key",
     "patching_rect": [
      620.0,
      540.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-40",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      570.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-41",
     "maxclass": "comment",
     "text": "jam_chord",
     "patching_rect": [
      620.0,
      570.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-42",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      600.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-43",
     "maxclass": "comment",
     "text": "jam_next_chord",
     "patching_rect": [
      620.0,
      600.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-44",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      630.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-45",
     "maxclass": "comment",
     "text": "jam_tempo_bpm",
     "patching_rect": [
      620.0,
      630.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-46",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      660.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-47",
     "maxclass": "comment",
     "text": "jam_beat",
     "patching_rect": [
      620.0,
      660.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-48",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      690.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-49",
     "maxclass": "comment",
     "text": "search_state",
     "patching_rect": [
      620.0,
      690.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-50",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      720.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-51",
     "maxclass": "comment",
     "text": "scene",
     "patching_rect": [
      620.0,
      720.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-52",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      750.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-53",
     "maxclass": "comment",
     "text": "emotion",
     "patching_rect": [
      620.0,
      750.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-54",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      780.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-55",
     "maxclass": "comment",
     "text": "protocol",
     "patching_rect": [
      620.0,
      780.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-56",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      810.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-57",
     "maxclass": "comment",
     "text": "protocol_stage",
     "patching_rect": [
      620.0,
      810.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-58",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      840.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-59",
     "maxclass": "comment",
     "text": "state",
     "patching_rect": [
      620.0,
      840.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-60",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      870.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-61",
     "maxclass": "comment",
     "text": "bpm",
     "patching_rect": [
      620.0,
      870.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-62",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      900.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-63",
     "maxclass": "comment",
     "text": "baseline_bpm",
     "patching_rect": [
      620.0,
      900.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-64",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      930.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-65",
     "maxclass": "comment",
     "text": "hrv_rmssd_ms",
     "patching_rect": [
      620.0,
      930.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-66",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      960.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-67",
     "maxclass": "comment",
     "text": "hrv_sdnn_ms",
     "patching_rect": [
      620.0,
      960.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-68",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      990.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-69",
     "maxclass": "comment",
     "text": "ble_state",
     "patching_rect": [
      620.0,
      990.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-70",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      1020.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-71",
     "maxclass": "comment",
     "text": "prompt",
     "patching_rect": [
      620.0,
      1020.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-72",
     "maxclass": "message",
     "text": "",
     "patching_rect": [
      760.0,
      1050.0,
      150.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-73",
     "maxclass": "comment",
     "text": "osc_dropped",
     "patching_rect": [
      620.0,
      1050.0,
      130.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-74",
     "maxclass": "comment",
     "text": "heart rate",
     "patching_rect": [
      40.0,
      92.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-75",
     "maxclass": "message",
     "text": "/hr/bpm 72",
     "patching_rect": [
      40.0,
      118.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-76",
     "maxclass": "comment",
     "text": "bpm (f: 0..400 bpm)",
     "patching_rect": [
      350.0,
      118.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-77",
     "maxclass": "message",
     "text": "/hr/rr 830.",
     "patching_rect": [
      40.0,
      146.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-78",
     "maxclass": "comment",
     "text": "rr (f \u00d71..16: 100..4000 ms)",
     "patching_rect": [
      350.0,
      146.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-79",
     "maxclass": "message",
     "text": "/hr/contact 1",
     "patching_rect": [
      40.0,
      174.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-80",
     "maxclass": "comment",
     "text": "contact (i: 0..1)",
     "patching_rect": [
      350.0,
      174.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-81",
     "maxclass": "message",
     "text": "/state/force neutral",
     "patching_rect": [
      40.0,
      202.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-82",
     "maxclass": "comment",
     "text": "state (s: neutral|stress|underaroused)",
     "patching_rect": [
      350.0,
      202.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-83",
     "maxclass": "message",
     "text": "/state/auto",
     "patching_rect": [
      40.0,
      230.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-84",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      230.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-85",
     "maxclass": "message",
     "text": "/baseline/start",
     "patching_rect": [
      40.0,
      258.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-86",
     "maxclass": "comment",
     "text": "optional seconds (f: 10..1800 s)",
     "patching_rect": [
      350.0,
      258.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-87",
     "maxclass": "message",
     "text": "/baseline/set 70.",
     "patching_rect": [
      40.0,
      286.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-88",
     "maxclass": "comment",
     "text": "bpm (f: 30..220 bpm)",
     "patching_rect": [
      350.0,
      286.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-89",
     "maxclass": "comment",
     "text": "session protocols",
     "patching_rect": [
      40.0,
      326.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-90",
     "maxclass": "message",
     "text": "/session/start demo",
     "patching_rect": [
      40.0,
      352.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-91",
     "maxclass": "comment",
     "text": "protocol (s)",
     "patching_rect": [
      350.0,
      352.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-92",
     "maxclass": "message",
     "text": "/session/stop",
     "patching_rect": [
      40.0,
      380.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-93",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      380.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-94",
     "maxclass": "comment",
     "text": "steering",
     "patching_rect": [
      40.0,
      420.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-95",
     "maxclass": "message",
     "text": "/emotion calm 0.8",
     "patching_rect": [
      40.0,
      446.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-96",
     "maxclass": "comment",
     "text": "label (s) confidence (f: 0..1)",
     "patching_rect": [
      350.0,
      446.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-97",
     "maxclass": "message",
     "text": "/scene zen",
     "patching_rect": [
      40.0,
      474.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-98",
     "maxclass": "comment",
     "text": "name (s)",
     "patching_rect": [
      350.0,
      474.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-99",
     "maxclass": "message",
     "text": "/scene/surprise",
     "patching_rect": [
      40.0,
      502.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-100",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      502.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-101",
     "maxclass": "comment",
     "text": "layers",
     "patching_rect": [
      40.0,
      542.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-102",
     "maxclass": "message",
     "text": "/layers/mix zen",
     "patching_rect": [
      40.0,
      568.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-103",
     "maxclass": "comment",
     "text": "vibe (s)",
     "patching_rect": [
      350.0,
      568.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-104",
     "maxclass": "message",
     "text": "/layers/1/file rain.wav",
     "patching_rect": [
      40.0,
      596.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-105",
     "maxclass": "comment",
     "text": "ref (s)",
     "patching_rect": [
      350.0,
      596.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-106",
     "maxclass": "message",
     "text": "/layers/2/file rain.wav",
     "patching_rect": [
      40.0,
      624.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-107",
     "maxclass": "comment",
     "text": "ref (s)",
     "patching_rect": [
      350.0,
      624.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-108",
     "maxclass": "message",
     "text": "/layers/3/file rain.wav",
     "patching_rect": [
      40.0,
      652.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-109",
     "maxclass": "comment",
     "text": "ref (s)",
     "patching_rect": [
      350.0,
      652.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-110",
     "maxclass": "message",
     "text": "/layers/4/file rain.wav",
     "patching_rect": [
      40.0,
      680.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-111",
     "maxclass": "comment",
     "text": "ref (s)",
     "patching_rect": [
      350.0,
      680.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-112",
     "maxclass": "message",
     "text": "/layers/1/gain -12.",
     "patching_rect": [
      40.0,
      708.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-113",
     "maxclass": "comment",
     "text": "gain (f: -60..12 dB)",
     "patching_rect": [
      350.0,
      708.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-114",
     "maxclass": "message",
     "text": "/layers/2/gain -12.",
     "patching_rect": [
      40.0,
      736.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-115",
     "maxclass": "comment",
     "text": "gain (f: -60..12 dB)",
     "patching_rect": [
      350.0,
      736.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-116",
     "maxclass": "message",
     "text": "/layers/3/gain -12.",
     "patching_rect": [
      40.0,
      764.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-117",
     "maxclass": "comment",
     "text": "gain (f: -60..12 dB)",
     "patching_rect": [
      350.0,
      764.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-118",
     "maxclass": "message",
     "text": "/layers/4/gain -12.",
     "patching_rect": [
      40.0,
      792.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-119",
     "maxclass": "comment",
     "text": "gain (f: -60..12 dB)",
     "patching_rect": [
      350.0,
      792.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-120",
     "maxclass": "message",
     "text": "/layers/1/pan 0.3",
     "patching_rect": [
      40.0,
      820.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-121",
     "maxclass": "comment",
     "text": "pan (f: -1..1)",
     "patching_rect": [
      350.0,
      820.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-122",
     "maxclass": "message",
     "text": "/layers/2/pan 0.3",
     "patching_rect": [
      40.0,
      848.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-123",
     "maxclass": "comment",
     "text": "pan (f: -1..1)",
     "patching_rect": [
      350.0,
      848.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-124",
     "maxclass": "message",
     "text": "/layers/3/pan 0.3",
     "patching_rect": [
      40.0,
      876.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-125",
     "maxclass": "comment",
     "text": "pan (f: -1..1)",
     "patching_rect": [
      350.0,
      876.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-126",
     "maxclass": "message",
     "text": "/layers/4/pan 0.3",
     "patching_rect": [
      40.0,
      904.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-127",
     "maxclass": "comment",
     "text": "pan (f: -1..1)",
     "patching_rect": [
      350.0,
      904.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-128",
     "maxclass": "message",
     "text": "/layers/1/filter 6000.",
     "patching_rect": [
      40.0,
      932.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-129",
     "maxclass": "comment",
     "text": "cutoff (f: 20..20000 Hz)",
     "patching_rect": [
      350.0,
      932.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-130",
     "maxclass": "message",
     "text": "/layers/2/filter 6000.",
     "patching_rect": [
      40.0,
      960.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-131",
     "maxclass": "comment",
     "text": "cutoff (f: 20..20000 Hz)",
     "patching_rect": [
      350.0,
      960.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-132",
     "maxclass": "message",
     "text": "/layers/3/filter 6000.",
     "patching_rect": [
      40.0,
      988.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-133",
     "maxclass": "comment",
     "text": "cutoff (f: 20..20000 Hz)",
     "patching_rect": [
      350.0,
      988.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-134",
     "maxclass": "message",
     "text": "/layers/4/filter 6000.",
     "patching_rect": [
      40.0,
      1016.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-135",
     "maxclass": "comment",
     "text": "cutoff (f: 20..20000 Hz)",
     "patching_rect": [
      350.0,
      1016.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-136",
     "maxclass": "message",
     "text": "/layers/1/mute 1",
     "patching_rect": [
      40.0,
      1044.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-137",
     "maxclass": "comment",
     "text": "mute (i: 0..1)",
     "patching_rect": [
      350.0,
      1044.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-138",
     "maxclass": "message",
     "text": "/layers/2/mute 1",
     "patching_rect": [
      40.0,
      1072.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-139",
     "maxclass": "comment",
     "text": "mute (i: 0..1)",
     "patching_rect": [
      350.0,
      1072.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-140",
     "maxclass": "message",
     "text": "/layers/3/mute 1",
     "patching_rect": [
      40.0,
      1100.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-141",
     "maxclass": "comment",
     "text": "mute (i: 0..1)",
     "patching_rect": [
      350.0,
      1100.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-142",
     "maxclass": "message",
     "text": "/layers/4/mute 1",
     "patching_rect": [
      40.0,
      1128.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-143",
     "maxclass": "comment",
     "text": "mute (i: 0..1)",
     "patching_rect": [
      350.0,
      1128.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-144",
     "maxclass": "comment",
     "text": "prompts",
     "patching_rect": [
      40.0,
      1168.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-145",
     "maxclass": "message",
     "text": "/prompt/set calm-warm-strings",
     "patching_rect": [
      40.0,
      1194.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-146",
     "maxclass": "comment",
     "text": "id (s)",
     "patching_rect": [
      350.0,
      1194.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-147",
     "maxclass": "message",
     "text": "/prompt/next",
     "patching_rect": [
      40.0,
      1222.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-148",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      1222.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-149",
     "maxclass": "message",
     "text": "/prompt/text \"slow warm strings and choir, 58 bpm\"",
     "patching_rect": [
      40.0,
      1250.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-150",
     "maxclass": "comment",
     "text": "text (s)",
     "patching_rect": [
      350.0,
      1250.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-151",
     "maxclass": "message",
     "text": "/prompt/search \"rain on a tin roof, slow piano\"",
     "patching_rect": [
      40.0,
      1278.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-152",
     "maxclass": "comment",
     "text": "text (s)",
     "patching_rect": [
      350.0,
      1278.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-153",
     "maxclass": "message",
     "text": "/library/search \"rain\"",
     "patching_rect": [
      40.0,
      1306.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-154",
     "maxclass": "comment",
     "text": "text (s)",
     "patching_rect": [
      350.0,
      1306.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-155",
     "maxclass": "message",
     "text": "/library/similar rain.wav",
     "patching_rect": [
      40.0,
      1334.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-156",
     "maxclass": "comment",
     "text": "ref (s)",
     "patching_rect": [
      350.0,
      1334.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-157",
     "maxclass": "message",
     "text": "/prompt/bank bank.json",
     "patching_rect": [
      40.0,
      1362.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-158",
     "maxclass": "comment",
     "text": "file (s)",
     "patching_rect": [
      350.0,
      1362.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-159",
     "maxclass": "comment",
     "text": "mix and FX",
     "patching_rect": [
      40.0,
      1402.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-160",
     "maxclass": "message",
     "text": "/master/gain -6.",
     "patching_rect": [
      40.0,
      1428.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-161",
     "maxclass": "comment",
     "text": "gain (f: -60..0 dB)",
     "patching_rect": [
      350.0,
      1428.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-162",
     "maxclass": "message",
     "text": "/fx/hpf 120.",
     "patching_rect": [
      40.0,
      1456.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-163",
     "maxclass": "comment",
     "text": "hz (f: 10..2000 Hz)",
     "patching_rect": [
      350.0,
      1456.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-164",
     "maxclass": "message",
     "text": "/fx/lpf 10000.",
     "patching_rect": [
      40.0,
      1484.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-165",
     "maxclass": "comment",
     "text": "hz (f: 1000..20000 Hz)",
     "patching_rect": [
      350.0,
      1484.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-166",
     "maxclass": "message",
     "text": "/fx/drive 1.6",
     "patching_rect": [
      40.0,
      1512.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-167",
     "maxclass": "comment",
     "text": "drive (f: 0.1..10)",
     "patching_rect": [
      350.0,
      1512.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-168",
     "maxclass": "message",
     "text": "/fx/peak 0.9",
     "patching_rect": [
      40.0,
      1540.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-169",
     "maxclass": "comment",
     "text": "peak (f: 0.05..1 FS)",
     "patching_rect": [
      350.0,
      1540.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-170",
     "maxclass": "comment",
     "text": "timeline",
     "patching_rect": [
      40.0,
      1580.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-171",
     "maxclass": "message",
     "text": "/segment/length 24.",
     "patching_rect": [
      40.0,
      1606.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-172",
     "maxclass": "comment",
     "text": "seconds (f: 2..600 s)",
     "patching_rect": [
      350.0,
      1606.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-173",
     "maxclass": "message",
     "text": "/crossfade 1.5",
     "patching_rect": [
      40.0,
      1634.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-174",
     "maxclass": "comment",
     "text": "seconds (f: 0..30 s)",
     "patching_rect": [
      350.0,
      1634.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-175",
     "maxclass": "message",
     "text": "/segment/skip",
     "patching_rect": [
      40.0,
      1662.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-176",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      1662.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-177",
     "maxclass": "comment",
     "text": "renderer",
     "patching_rect": [
      40.0,
      1702.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-178",
     "maxclass": "message",
     "text": "/renderer/coupling 0.6",
     "patching_rect": [
      40.0,
      1728.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-179",
     "maxclass": "comment",
     "text": "k (f: 0..8 K/Kc)",
     "patching_rect": [
      350.0,
      1728.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-180",
     "maxclass": "message",
     "text": "/renderer/brightness 0.5",
     "patching_rect": [
      40.0,
      1756.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-181",
     "maxclass": "comment",
     "text": "brightness (f: 0..1)",
     "patching_rect": [
      350.0,
      1756.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-182",
     "maxclass": "message",
     "text": "/renderer/width 0.7",
     "patching_rect": [
      40.0,
      1784.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-183",
     "maxclass": "comment",
     "text": "width (f: 0..1)",
     "patching_rect": [
      350.0,
      1784.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-184",
     "maxclass": "message",
     "text": "/renderer/density 96",
     "patching_rect": [
      40.0,
      1812.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-185",
     "maxclass": "comment",
     "text": "partials (i: 4..4096)",
     "patching_rect": [
      350.0,
      1812.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-186",
     "maxclass": "message",
     "text": "/renderer/key C",
     "patching_rect": [
      40.0,
      1840.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-187",
     "maxclass": "comment",
     "text": "key (s: C|C#|D|D#|E|F|F#|G|G#|A|A#|B|Db|Eb|Gb|Ab|Bb)",
     "patching_rect": [
      350.0,
      1840.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-188",
     "maxclass": "message",
     "text": "/renderer/mode ionian",
     "patching_rect": [
      40.0,
      1868.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-189",
     "maxclass": "comment",
     "text": "mode (s: ionian|dorian|phrygian|lydian|mixolydian|aeolian|locrian|major|minor|pentatonic_major|pentatonic_minor)",
     "patching_rect": [
      350.0,
      1868.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-190",
     "maxclass": "message",
     "text": "/renderer/tempo 64.",
     "patching_rect": [
      40.0,
      1896.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-191",
     "maxclass": "comment",
     "text": "bpm (f: 20..240 bpm)",
     "patching_rect": [
      350.0,
      1896.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-192",
     "maxclass": "comment",
     "text": "sounds",
     "patching_rect": [
      40.0,
      1936.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-193",
     "maxclass": "message",
     "text": "/renderer/partials glass",
     "patching_rect": [
      40.0,
      1962.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-194",
     "maxclass": "comment",
     "text": "name (s)",
     "patching_rect": [
      350.0,
      1962.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-195",
     "maxclass": "message",
     "text": "/renderer/partials_snap off",
     "patching_rect": [
      40.0,
      1990.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-196",
     "maxclass": "comment",
     "text": "snap (s: off|key)",
     "patching_rect": [
      350.0,
      1990.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-197",
     "maxclass": "message",
     "text": "/renderer/transpose -12.",
     "patching_rect": [
      40.0,
      2018.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-198",
     "maxclass": "comment",
     "text": "semitones (f: -24..24 st)",
     "patching_rect": [
      350.0,
      2018.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-199",
     "maxclass": "message",
     "text": "/som/xy 0.5 0.5",
     "patching_rect": [
      40.0,
      2046.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-200",
     "maxclass": "comment",
     "text": "x (f: 0..1) y (f: 0..1)",
     "patching_rect": [
      350.0,
      2046.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-201",
     "maxclass": "pictslider",
     "text": "",
     "patching_rect": [
      40.0,
      2074.0,
      120.0,
      120.0
     ],
     "numinlets": 2,
     "numoutlets": 2,
     "outlettype": [
      "",
      ""
     ],
     "floatoutput": 1,
     "leftvalue": 0.0,
     "rightvalue": 1.0,
     "topvalue": 1.0,
     "bottomvalue": 0.0
    }
   },
   {
    "box": {
     "id": "obj-202",
     "maxclass": "newobj",
     "text": "pack 0. 0.",
     "patching_rect": [
      40.0,
      2204.0,
      80.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-203",
     "maxclass": "newobj",
     "text": "prepend /som/xy",
     "patching_rect": [
      40.0,
      2234.0,
      110.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-204",
     "maxclass": "comment",
     "text": "XY pad: drag to travel the map",
     "patching_rect": [
      170.0,
      2074.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-205",
     "maxclass": "comment",
     "text": "adapters",
     "patching_rect": [
      40.0,
      2282.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-206",
     "maxclass": "message",
     "text": "/adapter/blend calm 0.015",
     "patching_rect": [
      40.0,
      2308.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-207",
     "maxclass": "comment",
     "text": "name (s) weight (f: -4..4)",
     "patching_rect": [
      350.0,
      2308.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-208",
     "maxclass": "message",
     "text": "/adapter/clear",
     "patching_rect": [
      40.0,
      2336.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-209",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      2336.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-210",
     "maxclass": "comment",
     "text": "vae",
     "patching_rect": [
      40.0,
      2376.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-211",
     "maxclass": "message",
     "text": "/vae/slider/1 0.5",
     "patching_rect": [
      40.0,
      2402.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-212",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2402.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-213",
     "maxclass": "message",
     "text": "/vae/slider/2 0.5",
     "patching_rect": [
      40.0,
      2430.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-214",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2430.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-215",
     "maxclass": "message",
     "text": "/vae/slider/3 0.5",
     "patching_rect": [
      40.0,
      2458.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-216",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2458.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-217",
     "maxclass": "message",
     "text": "/vae/slider/4 0.5",
     "patching_rect": [
      40.0,
      2486.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-218",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2486.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-219",
     "maxclass": "message",
     "text": "/vae/slider/5 0.5",
     "patching_rect": [
      40.0,
      2514.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-220",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2514.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-221",
     "maxclass": "message",
     "text": "/vae/slider/6 0.5",
     "patching_rect": [
      40.0,
      2542.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-222",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2542.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-223",
     "maxclass": "message",
     "text": "/vae/slider/7 0.5",
     "patching_rect": [
      40.0,
      2570.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-224",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2570.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-225",
     "maxclass": "message",
     "text": "/vae/slider/8 0.5",
     "patching_rect": [
      40.0,
      2598.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-226",
     "maxclass": "comment",
     "text": "value (f: 0..1)",
     "patching_rect": [
      350.0,
      2598.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-227",
     "maxclass": "message",
     "text": "/vae/preset calm",
     "patching_rect": [
      40.0,
      2626.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-228",
     "maxclass": "comment",
     "text": "preset (s)",
     "patching_rect": [
      350.0,
      2626.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-229",
     "maxclass": "message",
     "text": "/vae/preset/save calm",
     "patching_rect": [
      40.0,
      2654.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-230",
     "maxclass": "comment",
     "text": "preset (s)",
     "patching_rect": [
      350.0,
      2654.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-231",
     "maxclass": "message",
     "text": "/vae/blend other 0.5",
     "patching_rect": [
      40.0,
      2682.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-232",
     "maxclass": "comment",
     "text": "model (s) weight (f: 0..1)",
     "patching_rect": [
      350.0,
      2682.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-233",
     "maxclass": "comment",
     "text": "jam",
     "patching_rect": [
      40.0,
      2722.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-234",
     "maxclass": "message",
     "text": "/jam/accompaniment 1",
     "patching_rect": [
      40.0,
      2748.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-235",
     "maxclass": "comment",
     "text": "on (i: 0..1)",
     "patching_rect": [
      350.0,
      2748.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-236",
     "maxclass": "message",
     "text": "/jam/style pad",
     "patching_rect": [
      40.0,
      2776.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-237",
     "maxclass": "comment",
     "text": "style (s: pad|block|arpeggio)",
     "patching_rect": [
      350.0,
      2776.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-238",
     "maxclass": "message",
     "text": "/jam/program 4",
     "patching_rect": [
      40.0,
      2804.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-239",
     "maxclass": "comment",
     "text": "program (i: 0..127)",
     "patching_rect": [
      350.0,
      2804.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-240",
     "maxclass": "message",
     "text": "/jam/level -6.",
     "patching_rect": [
      40.0,
      2832.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-241",
     "maxclass": "comment",
     "text": "db (f: -60..12 dB)",
     "patching_rect": [
      350.0,
      2832.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-242",
     "maxclass": "message",
     "text": "/jam/fusion 0.5",
     "patching_rect": [
      40.0,
      2860.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-243",
     "maxclass": "comment",
     "text": "weight (f: 0..1)",
     "patching_rect": [
      350.0,
      2860.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-244",
     "maxclass": "message",
     "text": "/jam/tempo 100.",
     "patching_rect": [
      40.0,
      2888.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-245",
     "maxclass": "comment",
     "text": "bpm (f: 20..300 bpm)",
     "patching_rect": [
      350.0,
      2888.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-246",
     "maxclass": "message",
     "text": "/jam/meter 3",
     "patching_rect": [
      40.0,
      2916.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-247",
     "maxclass": "comment",
     "text": "beats (i: 1..16)",
     "patching_rect": [
      350.0,
      2916.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-248",
     "maxclass": "message",
     "text": "/jam/metronome 1",
     "patching_rect": [
      40.0,
      2944.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-249",
     "maxclass": "comment",
     "text": "on (i: 0..1)",
     "patching_rect": [
      350.0,
      2944.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-250",
     "maxclass": "message",
     "text": "/jam/metronome/level -18.",
     "patching_rect": [
      40.0,
      2972.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-251",
     "maxclass": "comment",
     "text": "db (f: -60..0 dBFS)",
     "patching_rect": [
      350.0,
      2972.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-252",
     "maxclass": "message",
     "text": "/jam/key_lock Gmaj",
     "patching_rect": [
      40.0,
      3000.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-253",
     "maxclass": "comment",
     "text": "key (s)",
     "patching_rect": [
      350.0,
      3000.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-254",
     "maxclass": "message",
     "text": "/jam/tempo_follow 1",
     "patching_rect": [
      40.0,
      3028.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-255",
     "maxclass": "comment",
     "text": "on (i: 0..1)",
     "patching_rect": [
      350.0,
      3028.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-256",
     "maxclass": "message",
     "text": "/jam/panic",
     "patching_rect": [
      40.0,
      3056.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-257",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      3056.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-258",
     "maxclass": "comment",
     "text": "transport",
     "patching_rect": [
      40.0,
      3096.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-259",
     "maxclass": "message",
     "text": "/transport/start",
     "patching_rect": [
      40.0,
      3122.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-260",
     "maxclass": "comment",
     "text": "optional fade (f: 0..10 s)",
     "patching_rect": [
      350.0,
      3122.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-261",
     "maxclass": "message",
     "text": "/transport/stop",
     "patching_rect": [
      40.0,
      3150.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-262",
     "maxclass": "comment",
     "text": "optional fade (f: 0..10 s)",
     "patching_rect": [
      350.0,
      3150.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-263",
     "maxclass": "comment",
     "text": "queries",
     "patching_rect": [
      40.0,
      3190.0,
      200.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-264",
     "maxclass": "message",
     "text": "/status",
     "patching_rect": [
      40.0,
      3216.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-265",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      3216.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-266",
     "maxclass": "message",
     "text": "/help",
     "patching_rect": [
      40.0,
      3244.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-267",
     "maxclass": "comment",
     "text": "(no arguments)",
     "patching_rect": [
      350.0,
      3244.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-268",
     "maxclass": "message",
     "text": "/subscribe",
     "patching_rect": [
      40.0,
      3272.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-269",
     "maxclass": "comment",
     "text": "optional port (i: 1..65535)",
     "patching_rect": [
      350.0,
      3272.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   },
   {
    "box": {
     "id": "obj-270",
     "maxclass": "message",
     "text": "/unsubscribe",
     "patching_rect": [
      40.0,
      3300.0,
      300.0,
      22.0
     ],
     "numinlets": 2,
     "numoutlets": 1,
     "outlettype": [
      ""
     ]
    }
   },
   {
    "box": {
     "id": "obj-271",
     "maxclass": "comment",
     "text": "optional port (i: 1..65535)",
     "patching_rect": [
      350.0,
      3300.0,
      250.0,
      22.0
     ],
     "numinlets": 1,
     "numoutlets": 0
    }
   }
  ],
  "lines": [
   {
    "patchline": {
     "source": [
      "obj-2",
      0
     ],
     "destination": [
      "obj-3",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      0
     ],
     "destination": [
      "obj-10",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      1
     ],
     "destination": [
      "obj-12",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      2
     ],
     "destination": [
      "obj-14",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      3
     ],
     "destination": [
      "obj-16",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      4
     ],
     "destination": [
      "obj-18",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      5
     ],
     "destination": [
      "obj-20",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      6
     ],
     "destination": [
      "obj-22",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      7
     ],
     "destination": [
      "obj-24",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      8
     ],
     "destination": [
      "obj-26",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      9
     ],
     "destination": [
      "obj-28",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      10
     ],
     "destination": [
      "obj-30",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      11
     ],
     "destination": [
      "obj-32",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      12
     ],
     "destination": [
      "obj-34",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      13
     ],
     "destination": [
      "obj-36",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      14
     ],
     "destination": [
      "obj-38",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      15
     ],
     "destination": [
      "obj-40",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      16
     ],
     "destination": [
      "obj-42",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      17
     ],
     "destination": [
      "obj-44",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      18
     ],
     "destination": [
      "obj-46",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      19
     ],
     "destination": [
      "obj-48",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      20
     ],
     "destination": [
      "obj-50",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      21
     ],
     "destination": [
      "obj-52",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      22
     ],
     "destination": [
      "obj-54",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      23
     ],
     "destination": [
      "obj-56",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      24
     ],
     "destination": [
      "obj-58",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      25
     ],
     "destination": [
      "obj-60",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      26
     ],
     "destination": [
      "obj-62",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      27
     ],
     "destination": [
      "obj-64",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      28
     ],
     "destination": [
      "obj-66",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      29
     ],
     "destination": [
      "obj-68",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      30
     ],
     "destination": [
      "obj-70",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-3",
      31
     ],
     "destination": [
      "obj-72",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-75",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-77",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-79",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-81",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-83",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-85",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-87",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-90",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-92",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-95",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-97",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-99",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-102",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-104",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-106",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-108",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-110",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-112",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-114",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-116",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-118",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-120",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-122",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-124",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-126",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-128",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-130",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-132",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-134",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-136",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-138",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-140",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-142",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-145",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-147",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-149",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-151",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-153",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-155",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-157",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-160",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-162",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-164",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-166",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-168",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-171",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-173",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-175",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-178",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-180",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-182",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-184",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-186",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-188",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-190",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-193",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-195",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-197",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-199",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-201",
      0
     ],
     "destination": [
      "obj-202",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-201",
      1
     ],
     "destination": [
      "obj-202",
      1
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-202",
      0
     ],
     "destination": [
      "obj-203",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-203",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-206",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-208",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-211",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-213",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-215",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-217",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-219",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-221",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-223",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-225",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-227",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-229",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-231",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-234",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-236",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-238",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-240",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-242",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-244",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-246",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-248",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-250",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-252",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-254",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-256",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-259",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-261",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-264",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-266",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-268",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   },
   {
    "patchline": {
     "source": [
      "obj-270",
      0
     ],
     "destination": [
      "obj-1",
      0
     ]
    }
   }
  ]
 }
}
