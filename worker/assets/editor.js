(function(){
var f=document.getElementById("segment-form"),t=document.getElementById("segment-rule"),
n=document.getElementById("segment-name"),st=document.getElementById("rule-status"),
er=document.getElementById("rule-error"),pb=document.getElementById("preview"),
pc=document.getElementById("preview-count"),timer=0,seq=0;
function body(){return "name="+encodeURIComponent(n.value)+"&source="+encodeURIComponent(t.value);}
function post(u){return fetch(u,{method:"POST",credentials:"same-origin",
headers:{"content-type":"application/x-www-form-urlencoded"},body:body()}).then(function(r){return r.json();});}
function show(j){var e=j.error;
if(j.ok){st.textContent="\u2713 Valid rule";st.className="rule-ok";er.textContent="";er.hidden=true;
st.removeAttribute("data-line");st.removeAttribute("data-column");return;}
st.textContent=e.message+(e.line?" (line "+e.line+", column "+e.column+")":"");
st.className="rule-bad";st.setAttribute("data-line",e.line||"");st.setAttribute("data-column",e.column||"");
er.textContent=e.display;er.hidden=false;}
function validate(){var my=++seq;post("/dashboard/segments/validate").then(function(j){if(my===seq)show(j);})
.catch(function(){st.textContent="Could not check the rule (offline?)";st.className="rule-bad";});}
t.addEventListener("input",function(){clearTimeout(timer);timer=setTimeout(validate,250);});
n.addEventListener("input",function(){clearTimeout(timer);timer=setTimeout(validate,250);});
pb.addEventListener("click",function(){pc.textContent="counting\u2026";
post("/dashboard/segments/preview").then(function(j){if(j.ok){pc.textContent=j.count+" of "+j.evaluated+
" customers match now"+(j.limited?" (the "+j.evaluated+" most recent)":"");pc.setAttribute("data-count",j.count);}
else{show(j);pc.textContent="";}}).catch(function(){pc.textContent="Preview failed";});});
if(t.value)validate();
})();
