"""The Office add-in's manifest (a 绩效自评 tab with 校验 and 清除标记) and its icons, made for the URL
clients reach the service at. Minimum: ExcelApi 1.7 (freeze panes, hyperlinks, workbook protection);
notes need ExcelApi 1.18 and are left to the 校验结果 sheet below it (see docs/server.md)."""
from __future__ import annotations

import struct
import zlib
from functools import lru_cache
from xml.sax.saxutils import escape, quoteattr

ADDIN_ID = "6f3a1d2e-5b7c-4e8f-9a10-2c3d4e5f6a7b"  # fixed: Office tells add-ins apart by this id
MIN_EXCEL_API = "1.7"
# custom functions need CustomFunctionsRuntime 1.1 (Excel 365, Excel on the web, Excel 2021+ on Mac);
# older Excel shows the tab and buttons and simply has no PERFEVAL.* functions
NOTES_EXCEL_API = "1.18"

_MANIFEST = """<?xml version="1.0" encoding="UTF-8"?>
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
           xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
           xmlns:ov="http://schemas.microsoft.com/office/taskpaneappversionoverrides"
           xsi:type="TaskPaneApp">
  <Id>{id}</Id>
  <Version>{version}</Version>
  <ProviderName>财政局绩效科</ProviderName>
  <DefaultLocale>zh-CN</DefaultLocale>
  <DisplayName DefaultValue="绩效自评校验"/>
  <Description DefaultValue="校验部门整体支出绩效自评表：标出有问题的单元格，列出“校验结果”。"/>
  <IconUrl DefaultValue={icon32}/>
  <HighResolutionIconUrl DefaultValue={icon64}/>
  <SupportUrl DefaultValue={home}/>
  <AppDomains>
    <AppDomain>{base}</AppDomain>
  </AppDomains>
  <Hosts>
    <Host Name="Workbook"/>
  </Hosts>
  <Requirements>
    <Sets DefaultMinVersion="{min_api}">
      <Set Name="ExcelApi" MinVersion="{min_api}"/>
    </Sets>
  </Requirements>
  <DefaultSettings>
    <SourceLocation DefaultValue={commands}/>
  </DefaultSettings>
  <Permissions>ReadWriteDocument</Permissions>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/taskpaneappversionoverrides" xsi:type="VersionOverridesV1_0">
    <Hosts>
      <Host xsi:type="Workbook">
        <AllFormFactors>
          <ExtensionPoint xsi:type="CustomFunctions">
            <Script>
              <SourceLocation resid="Functions.Script.Url"/>
            </Script>
            <Page>
              <SourceLocation resid="Functions.Page.Url"/>
            </Page>
            <Metadata>
              <SourceLocation resid="Functions.Metadata.Url"/>
            </Metadata>
            <Namespace resid="Functions.Namespace"/>
          </ExtensionPoint>
        </AllFormFactors>
        <DesktopFormFactor>
          <FunctionFile resid="Commands.Url"/>
          <ExtensionPoint xsi:type="PrimaryCommandSurface">
            <CustomTab id="PerfevalTab">
              <Group id="PerfevalGroup">
                <Label resid="Group.Label"/>
                <Icon>
                  <bt:Image size="16" resid="Icon.16"/>
                  <bt:Image size="32" resid="Icon.32"/>
                  <bt:Image size="80" resid="Icon.80"/>
                </Icon>
                <Control xsi:type="Button" id="PerfevalValidate">
                  <Label resid="Validate.Label"/>
                  <Supertip>
                    <Title resid="Validate.Label"/>
                    <Description resid="Validate.Tip"/>
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Icon.16"/>
                    <bt:Image size="32" resid="Icon.32"/>
                    <bt:Image size="80" resid="Icon.80"/>
                  </Icon>
                  <Action xsi:type="ExecuteFunction">
                    <FunctionName>validate</FunctionName>
                  </Action>
                </Control>
                <Control xsi:type="Button" id="PerfevalClear">
                  <Label resid="Clear.Label"/>
                  <Supertip>
                    <Title resid="Clear.Label"/>
                    <Description resid="Clear.Tip"/>
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Icon.16"/>
                    <bt:Image size="32" resid="Icon.32"/>
                    <bt:Image size="80" resid="Icon.80"/>
                  </Icon>
                  <Action xsi:type="ExecuteFunction">
                    <FunctionName>clearMarks</FunctionName>
                  </Action>
                </Control>
              </Group>
              <Label resid="Tab.Label"/>
            </CustomTab>
          </ExtensionPoint>
        </DesktopFormFactor>
      </Host>
    </Hosts>
    <Resources>
      <bt:Images>
        <bt:Image id="Icon.16" DefaultValue={icon16}/>
        <bt:Image id="Icon.32" DefaultValue={icon32}/>
        <bt:Image id="Icon.80" DefaultValue={icon80}/>
      </bt:Images>
      <bt:Urls>
        <bt:Url id="Commands.Url" DefaultValue={commands}/>
        <bt:Url id="Functions.Script.Url" DefaultValue={functions_js}/>
        <bt:Url id="Functions.Page.Url" DefaultValue={functions_page}/>
        <bt:Url id="Functions.Metadata.Url" DefaultValue={functions_json}/>
      </bt:Urls>
      <bt:ShortStrings>
        <bt:String id="Functions.Namespace" DefaultValue="PERFEVAL"/>
        <bt:String id="Tab.Label" DefaultValue="绩效自评"/>
        <bt:String id="Group.Label" DefaultValue="校验"/>
        <bt:String id="Validate.Label" DefaultValue="校验"/>
        <bt:String id="Clear.Label" DefaultValue="清除标记"/>
      </bt:ShortStrings>
      <bt:LongStrings>
        <bt:String id="Validate.Tip" DefaultValue="把本工作簿交给财政局的校验服务：有问题的单元格标色（并加批注），结果写在“校验结果”工作表。"/>
        <bt:String id="Clear.Tip" DefaultValue="去掉上次校验留下的标色、批注和“校验结果”工作表，单元格恢复原样。"/>
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
"""


def manifest_xml(base: str, token: str = "", version: str = "1.0.0.0") -> str:
    """The manifest for clients reaching the service at base (https://host[:port], no trailing slash).

    token: put in the command page's URL so that the add-in can call a token-guarded service."""
    base = base.rstrip("/")
    query = f"?t={token}" if token else ""

    def url(path: str) -> str:
        return quoteattr(base + path)

    return _MANIFEST.format(
        id=ADDIN_ID, version=escape(version), base=escape(base), home=url("/"), min_api=MIN_EXCEL_API,
        commands=url("/addin/commands.html" + query),
        functions_js=url("/addin/functions.js" + query), functions_page=url("/addin/functions.html" + query),
        functions_json=url("/addin/functions.json"),
        icon16=url("/addin/icon-16.png"), icon32=url("/addin/icon-32.png"),
        icon64=url("/addin/icon-64.png"), icon80=url("/addin/icon-80.png"))


@lru_cache(maxsize=8)
def icon_png(size: int) -> bytes:
    """A plain icon: a dark green square with a white tick (drawn here: no image files to ship)."""
    green, white = (0x1E, 0x6B, 0x3A), (0xFF, 0xFF, 0xFF)
    rows = []
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            u, v = x / size, y / size
            # the tick: two strokes, (0.22,0.52)->(0.42,0.72) and (0.42,0.72)->(0.8,0.3)
            on = _near(u, v, (0.22, 0.52), (0.42, 0.72)) or _near(u, v, (0.42, 0.72), (0.80, 0.30))
            row += bytes(white if on else green)
        rows.append(bytes(row))
    raw = zlib.compress(b"".join(rows), 9)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", raw) + chunk(b"IEND", b""))


def _near(u: float, v: float, a: tuple, b: tuple, width: float = 0.07) -> bool:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    t = max(0.0, min(1.0, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
    px, py = ax + t * dx, ay + t * dy
    return (u - px) ** 2 + (v - py) ** 2 <= width * width
