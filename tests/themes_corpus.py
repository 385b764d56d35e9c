"""A tiny hand-written corpus of health-policy news for the theme tests (four subjects).

Written for these tests; not taken from any news source. Each entry is (subject, headline,
body). The subject is only used by the tests to check the clustering.
"""

CORPUS: list[tuple[str, str, str]] = [
    (
        "strike",
        "Resident doctors begin five-day strike over pay",
        "Resident doctors in England walked out this morning in a dispute over pay, and the BMA "
        "said picket lines had formed outside hospitals. Thousands of routine operations were "
        "postponed during the strike.",
    ),
    (
        "strike",
        "BMA announces new strike dates for resident doctors",
        "The British Medical Association has announced fresh strike dates after talks on pay "
        "restoration broke down. Resident doctors will walk out again next month.",
    ),
    (
        "strike",
        "Hospitals cancel operations as doctors strike",
        "NHS trusts cancelled thousands of appointments as resident doctors went on strike. "
        "Consultants covered emergency care while the walkout over pay continued.",
    ),
    (
        "strike",
        "Health secretary urges doctors to call off strike",
        "The health secretary urged the BMA to call off the strike and return to pay talks, "
        "warning that the walkout would lengthen waiting lists for patients.",
    ),
    (
        "strike",
        "Doctors vote to extend strike mandate",
        "Resident doctors voted by a large majority to extend their strike mandate for six "
        "months, giving the BMA power to call more walkouts in the pay dispute.",
    ),
    (
        "strike",
        "Nurses join doctors in pay strike ballot",
        "The Royal College of Nursing opened a strike ballot on pay, as resident doctors "
        "prepared for their own walkout. Union leaders said pay had fallen in real terms.",
    ),
    (
        "strike",
        "Pay talks between BMA and government collapse",
        "Talks between the BMA and the government over resident doctors' pay collapsed on "
        "Tuesday, making further strike action likely this winter.",
    ),
    (
        "cqc",
        "Care home rated inadequate by CQC inspectors",
        "The Care Quality Commission rated a care home in Kent inadequate after inspectors "
        "found residents left without help and medicines stored unsafely. It was placed in "
        "special measures.",
    ),
    (
        "cqc",
        "Hospital maternity unit rated requires improvement",
        "CQC inspectors rated the maternity unit at a district hospital as requires "
        "improvement, citing staffing shortages and poor record keeping.",
    ),
    (
        "cqc",
        "GP surgery rated outstanding by Care Quality Commission",
        "A GP surgery in Leeds has been rated outstanding by the Care Quality Commission, "
        "with inspectors praising its caring staff and well-led management.",
    ),
    (
        "cqc",
        "Mental health trust downgraded after inspection",
        "The Care Quality Commission downgraded a mental health trust from good to requires "
        "improvement after an inspection found unsafe ward staffing.",
    ),
    (
        "cqc",
        "Care home placed in special measures after CQC visit",
        "Inspectors from the CQC rated a nursing home inadequate and placed it in special "
        "measures, saying leadership was not effective and care was unsafe.",
    ),
    (
        "cqc",
        "Ambulance service rated good by inspectors",
        "The CQC rated the regional ambulance service good overall following an inspection, "
        "though inspectors said its emergency operations centre required improvement.",
    ),
    (
        "cqc",
        "Inspectors find improvements at previously inadequate hospital",
        "A hospital trust previously rated inadequate by the Care Quality Commission has "
        "improved to requires improvement, inspectors said in their latest report.",
    ),
    (
        "ae",
        "A&E waiting times hit record high",
        "More patients than ever waited over twelve hours in A&E last month, figures show, "
        "with emergency departments struggling to find beds for those needing admission.",
    ),
    (
        "ae",
        "Ambulance handover delays worsen at emergency departments",
        "Ambulances queued outside emergency departments for hours as handover delays "
        "worsened, with paramedics unable to transfer patients into A&E.",
    ),
    (
        "ae",
        "Four-hour A&E target missed again",
        "Hospitals missed the four-hour A&E target again, with only 70 per cent of patients "
        "seen, admitted or discharged within four hours in emergency departments.",
    ),
    (
        "ae",
        "Corridor care becoming normal in A&E, nurses warn",
        "Nurses warned that patients are routinely treated on trolleys in corridors of "
        "emergency departments because A&E waits for a hospital bed are so long.",
    ),
    (
        "ae",
        "Emergency department crowding blamed for patient deaths",
        "Long waits in crowded emergency departments were linked to thousands of excess deaths, "
        "an analysis of A&E waiting times found.",
    ),
    (
        "ae",
        "Twelve-hour waits in A&E rise sharply this winter",
        "The number of twelve-hour waits from decision to admit in A&E rose sharply this "
        "winter as emergency departments faced high demand.",
    ),
    (
        "ae",
        "Ambulance response times for heart attacks lengthen",
        "Ambulance response times for heart attacks and strokes lengthened again, as crews "
        "waited outside A&E to hand over patients to emergency departments.",
    ),
    (
        "mh",
        "Young people wait months for mental health support",
        "Children and young people referred to mental health services are waiting months for "
        "treatment, with eating disorder referrals at a record high.",
    ),
    (
        "mh",
        "Funding for children's mental health services increased",
        "The government announced extra funding for child and adolescent mental health services "
        "to cut waits for young people needing therapy.",
    ),
    (
        "mh",
        "Mental health support teams to be expanded in schools",
        "Mental health support teams will be placed in more schools so that pupils with anxiety "
        "and depression can get help earlier.",
    ),
    (
        "mh",
        "Teenagers with eating disorders face long waits",
        "Teenagers with eating disorders are waiting too long for specialist mental health "
        "treatment, a charity warned, calling for more community services.",
    ),
    (
        "mh",
        "Anxiety and depression among young adults rising",
        "Rates of anxiety and depression among young adults have risen, a survey found, "
        "increasing pressure on mental health services and talking therapies.",
    ),
    (
        "mh",
        "Crisis mental health beds for young people in short supply",
        "Young people in mental health crisis are being sent hundreds of miles for a bed "
        "because of a shortage of inpatient mental health places for adolescents.",
    ),
    (
        "mh",
        "Talking therapies waiting list grows",
        "The waiting list for NHS talking therapies grew again, leaving people with anxiety "
        "and depression without mental health support for months.",
    ),
]

# A second batch on the same subjects, added to an existing store in the stability test.
LATER: list[tuple[str, str, str]] = [
    (
        "strike",
        "Resident doctors stage another walkout over pay",
        "Resident doctors began another strike over pay on Monday, the BMA said, after the "
        "government refused to reopen talks.",
    ),
    (
        "cqc",
        "Dental practice rated inadequate after CQC inspection",
        "The Care Quality Commission rated a dental practice inadequate after inspectors "
        "found unsafe infection control, and it was placed in special measures.",
    ),
    (
        "ae",
        "Patients wait on trolleys as A&E waits grow",
        "Patients waited on trolleys for more than twelve hours in A&E as emergency "
        "departments ran out of beds during a busy weekend.",
    ),
    (
        "mh",
        "Schools report rise in pupils needing mental health help",
        "Schools reported more pupils with anxiety needing mental health support, as young "
        "people waited months for specialist services.",
    ),
]
