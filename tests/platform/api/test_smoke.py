async def test_create_app_and_records(api):
    doc = {"app": {"label": {"zh-CN": "测试", "en": "Test"}},
           "entities": {
               "customer": {"label": {"zh-CN": "客户", "en": "Customer"},
                            "fields": {"name": {"type": "text", "required": True,
                                                "unique": True}}},
               "lead": {"label": {"zh-CN": "线索", "en": "Lead"},
                        "fields": {"name": {"type": "text", "required": True},
                                   "amount": {"type": "currency"},
                                   "customer": {"type": "lookup", "ref": "customer"}}}}}
    r = await api.post("/api/apps", json={"slug": "demo", "metadata": doc})
    assert r.status_code == 201, r.text
    r = await api.post("/api/apps/demo/records/customer", json={"name": "华为"})
    assert r.status_code == 201, r.text
    cid = r.json()["id"]
    r = await api.post("/api/apps/demo/records/lead",
                       json={"name": "线索一", "amount": 1234.5, "customer": cid})
    assert r.status_code == 201, r.text
    print(r.json())
    r = await api.get("/api/apps/demo/records/lead")
    print(r.json())
    assert r.status_code == 200
