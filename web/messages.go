package web

import "fmt"

// catalogue is every user-visible text of the pages, in zh-CN and en:
// key -> {zh-CN, en}. Templates name keys with T "key" (a test checks
// every key they name is here in both languages).
var catalogue = map[string][2]string{
	"app.name":      {"Fieldsync 售后服务", "Fieldsync after-sales service"},
	"lang.switch":   {"English", "中文"},
	"lang.switchto": {"切换语言", "Switch language"},

	"report.title":       {"服务报告", "Service report"},
	"report.ticket":      {"工单", "Ticket"},
	"report.fault":       {"故障描述", "Fault"},
	"report.product":     {"产品", "Product"},
	"report.model":       {"型号", "Model"},
	"report.serial":      {"序列号", "Serial number"},
	"report.findings":    {"检测结果", "Findings"},
	"report.cause":       {"原因", "Cause"},
	"report.photos":      {"照片", "Photos"},
	"report.nophotos":    {"无照片", "No photos"},
	"report.warranty":    {"保修判定", "Warranty decision"},
	"report.options":     {"可选方案", "Remedies on offer"},
	"report.quote":       {"报价", "Quote"},
	"report.item":        {"项目", "Item"},
	"report.qty":         {"数量", "Qty"},
	"report.amount":      {"金额", "Amount"},
	"report.total":       {"合计", "Total"},
	"report.decision":    {"客户决定", "Customer's decision"},
	"report.pickup":      {"取件单", "Pick-up slip"},
	"report.accessories": {"配件", "Accessories"},
	"report.present":     {"在", "present"},
	"report.missing":     {"缺", "missing"},
	"report.deductions":  {"扣款", "Deductions"},
	"report.refund":      {"应退金额", "Amount due"},
	"report.collected":   {"取件时间", "Collected at"},
	"report.signatures":  {"签名", "Signatures"},
	"report.technician":  {"技术员在平板上签署于", "The technician signed on the tablet at"},
	"report.customer":    {"客户", "Customer"},
	"report.signedat":    {"签署于", "signed at"},
	"report.refusedat":   {"拒签于", "refused to sign at"},
	"report.reason":      {"理由", "Reason"},
	"report.unsigned":    {"尚未签署", "Not signed yet"},
	"report.draft":       {"此报告尚未签署，内容可能变化。", "This report is not signed yet; it may still change."},
	"report.signed":      {"此报告已签署，等待照片上传后封存。", "This report is signed and is sealed once its photos are in."},
	"report.expires":     {"链接有效期至", "This link works until"},

	"badge.sealed": {"已封存", "Sealed"},
	"badge.at":     {"封存时间", "at"},
	"badge.log":    {"公开日志记录", "log entry"},
	"badge.intact": {"内容自封存后未被更改。", "unchanged since it was sealed."},

	"verify.title":    {"自行核验", "Check it yourself"},
	"verify.download": {"下载证据包", "Download the evidence bundle"},
	"verify.line1":    {"证据包内含报告、照片、签名和封存记录。", "The bundle holds the report, its photos, the signatures and the seal."},
	"verify.line2":    {"用服务器公钥运行以下命令核验每个字节：", "Check every byte with the server's public keys by running:"},

	"outcome.return":      {"退货", "Return"},
	"outcome.exchange":    {"换货", "Exchange"},
	"outcome.free_repair": {"免费维修", "Free repair"},
	"outcome.paid_repair": {"付费维修", "Paid repair"},
	"outcome.not_covered": {"不在保修范围内", "Not covered"},

	"quote.pending":  {"待定", "Pending"},
	"quote.accepted": {"已接受", "Accepted"},
	"quote.declined": {"已拒绝", "Declined"},

	"pickup.return":   {"退货取件", "Return pick-up"},
	"pickup.exchange": {"换货取件", "Exchange pick-up"},

	"gone.title":     {"链接已失效", "This link no longer works"},
	"gone.expired":   {"此报告链接已过期。请联系客服获取新链接。", "This report link has expired. Please ask customer service for a new one."},
	"gone.revoked":   {"此报告链接已被撤销。请联系客服获取新链接。", "This report link was withdrawn. Please ask customer service for a new one."},
	"notfound.title": {"找不到此报告", "Report not found"},
	"notfound.text":  {"此链接不正确。请检查短信中的完整链接。", "This link is not right. Please check that you opened the whole link from the message."},
}

// text is key's text in lang; an unknown key or language is an error, so
// a page never shows a key in place of its text.
func text(lang, key string) (string, error) {
	m, ok := catalogue[key]
	if !ok {
		return "", fmt.Errorf("web: no message %q", key)
	}
	switch lang {
	case ZhCN:
		return m[0], nil
	case En:
		return m[1], nil
	}
	return "", fmt.Errorf("web: no language %q", lang)
}
