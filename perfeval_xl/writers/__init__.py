"""Writers: carry a report out of the pipeline.

annotate.annotate(src, report, dest=None, *, in_place=False, backup=True) -> str   marks a workbook copy (openpyxl)
summary.write_summary(reports, dest)                                              the batch summary workbook
xlwings_apply (owner D)                                                           marks a live book from the same plan
Modules are imported on use so that a batch run never imports xlwings.
"""
